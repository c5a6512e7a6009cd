/** Requests exactly as written (no URL normalisation, any header size, chunked bodies), for edge cases fetch hides. */
import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function rawRequest(
  port: number,
  options: {
    method: string;
    path: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer | string;
    chunks?: Buffer[];
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

export interface RawAnswer {
  status: number;
  /** the status line and headers, lower-cased */
  headers: string;
  body: string;
}

export function parseRaw(data: string): RawAnswer {
  const [head = '', body = ''] = data.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head.toLowerCase(), body };
}

/**
 * Writes `bytes` to a fresh connection exactly as given (even an unfinished request) and
 * resolves with what the server answered once it closes the connection, or after `timeoutMs`.
 */
export function rawExchange(port: number, bytes: string, timeoutMs?: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    socket.on('close', () => resolve(parseRaw(data)));
    socket.on('error', reject);
    if (timeoutMs !== undefined) socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.write(bytes);
  });
}
