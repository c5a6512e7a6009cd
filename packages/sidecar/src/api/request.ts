/** Reading a request to the sidecar's HTTP API: its body (bounded), path segments, query and app id headers. */
import type http from 'node:http';
import { DaprApiError } from '../errors';

/** `metadata.<key>=value` query parameters; the first of a repeated key wins, as in daprd. */
export function metadataFromQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k.startsWith('metadata.') && !(k.slice(9) in out)) out[k.slice(9)] = v;
  }
  return out;
}

export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new DaprApiError(413, 'ERR_MALFORMED_REQUEST', `request body exceeds the limit of ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DaprApiError(400, 'ERR_MALFORMED_REQUEST', `invalid URL encoding in "${segment}"`);
  }
}

/** The app id of a request sent to a non-API path with `dapr-app-id` or Basic auth `dapr-app-id:X`. */
export function appIdFromHeaders(headers: http.IncomingHttpHeaders): string | undefined {
  const header = headers['dapr-app-id'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('basic ')) {
    const [user, password] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    if (user === 'dapr-app-id' && password !== undefined && password !== '') return password;
  }
  return undefined;
}
