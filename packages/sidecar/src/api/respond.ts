import type { ServerResponse } from 'node:http';
import { endWith } from '../app-channel/http-client';
import type { ApiResult } from './types';

/** Writes an ApiResult: objects as JSON, strings and buffers as they are, 204 without a body. */
export function sendResult(res: ServerResponse, result: ApiResult): void {
  const headers: Record<string, string | string[]> = { ...(result.headers ?? {}) };
  let body: Buffer | undefined;
  if (result.body !== undefined && result.status !== 204 && result.status !== 304) {
    if (Buffer.isBuffer(result.body)) body = result.body;
    else if (typeof result.body === 'string') body = Buffer.from(result.body);
    else {
      body = Buffer.from(JSON.stringify(result.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
    }
  }
  if (result.status !== 204 && result.status !== 304) headers['content-length'] = String(body?.length ?? 0);
  res.writeHead(result.status, headers);
  endWith(res, body);
}

export function daprError(status: number, errorCode: string, message: string): ApiResult {
  return { status, body: { errorCode, message } };
}
