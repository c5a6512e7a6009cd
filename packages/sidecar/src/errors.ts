import type { ApiResult } from './api/types';

/** An error answered to the caller as a Dapr error body `{errorCode, message}`. */
export class DaprApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'DaprApiError';
  }

  toResult(): ApiResult {
    return { status: this.status, body: { errorCode: this.errorCode, message: this.message } };
  }
}

/** A configuration problem found while starting: names the file, resource and field. */
export class SidecarStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SidecarStartupError';
  }
}

export function errorMessage(err: unknown): string {
  // Duck-typed: errors from another realm (vm contexts, jest) fail `instanceof Error`.
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  return String(err);
}

export function notImplemented(what: string): ApiResult {
  return {
    status: 501,
    body: {
      errorCode: 'ERR_NOT_IMPLEMENTED',
      message: `${what} is not implemented by the local quizmesh sidecar (see docs/sidecar.md)`,
    },
  };
}
