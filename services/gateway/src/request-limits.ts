/**
 * What a request may look like before it is forwarded: bodies within the size limit (413),
 * JSON where a body is sent (415), headers within MAX_HEADER_BYTES (431, answered by the
 * HTTP server itself before Express runs: see server.ts).
 */
import type { IncomingMessage } from 'node:http';
import { AppError } from '@quizmesh/platform';
import { BODYLESS_METHODS, bodyTooLarge, hasBody } from './proxy';

/** '100kb' → 102400 (the platform's JSON_BODY_LIMIT format). */
export function parseSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size);
  if (!match?.[1] || !match[2]) throw new Error(`not a size: ${size}`);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[match[2].toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(match[1]) * unit;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType ?? '');
}

/**
 * 400 for framing the gateway will not re-frame (docs/decisions/0720): Content-Length together
 * with Transfer-Encoding, a Transfer-Encoding other than plain `chunked`, or a body on a method
 * that has none (GET, HEAD, DELETE, OPTIONS). Node's parser already refuses most conflicting
 * framings; this holds even if it were relaxed. The connection is closed, so nothing else sent
 * on it is read.
 */
export function checkFraming(req: IncomingMessage): void {
  const te = req.headers['transfer-encoding'];
  const refuse = (detail: string) =>
    new AppError(400, { code: 'bad-framing', detail, headers: { connection: 'close' } });
  if (te !== undefined && req.headers['content-length'] !== undefined)
    throw refuse('a request must not carry both Content-Length and Transfer-Encoding');
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked')
    throw refuse('the only Transfer-Encoding accepted is chunked');
  if (BODYLESS_METHODS.has(req.method ?? '') && hasBody(req))
    throw refuse(`a ${req.method} request must not have a body`);
}

/** 413 when the declared length is over the limit, 415 when a body is not JSON. Chunked bodies are counted while streaming. */
export function checkRequestBody(req: IncomingMessage, maxBodyBytes: number): void {
  if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) throw bodyTooLarge(maxBodyBytes);
  if (hasBody(req) && !isJsonContentType(req.headers['content-type'])) {
    throw new AppError(415, {
      code: 'unsupported-media-type',
      detail: `request bodies must be application/json, got ${req.headers['content-type'] ?? 'no Content-Type'}`,
      headers: { 'accept-post': 'application/json' },
    });
  }
}

/** 408 for a body that did not arrive in time: the client's fault, not the service's (never a 504). */
export function bodyTimedOut(timeoutMs: number): AppError {
  return new AppError(408, {
    code: 'request-timeout',
    detail: `the request body was not received within ${timeoutMs} ms`,
    // The rest of the body will not be read: the connection cannot carry another request.
    headers: { connection: 'close' },
  });
}

/**
 * Reads a body completely before anything is forwarded, within the size limit (413) and the
 * time limit (408). Every forwarded body goes through here: a chunked or oversized upload is
 * answered by the gateway itself, never by a half-written upstream request (EPIPE, 503), and
 * a slow upload costs the gateway a timer, not a service's connection (no 504 blaming it).
 */
export function readBody(req: IncomingMessage, maxBodyBytes: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: AppError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      // Discard what is still coming, so the 4xx answer can be written.
      req.resume();
      reject(error);
    };
    const timer = setTimeout(() => stop(bodyTimedOut(timeoutMs)), timeoutMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        stop(bodyTooLarge(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new AppError(400, { code: 'body-unreadable', detail: 'request body could not be read', cause: err }));
    });
  });
}

/** The JSON body's `email`, normalised, or undefined (the service validates the body; the gateway only keys limits on it). */
export function emailOf(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError(400, { code: 'malformed-json', detail: 'request body is not valid JSON' });
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const email = (parsed as { email?: unknown }).email;
  return typeof email === 'string' ? email.trim().toLowerCase() : undefined;
}
