import type { ApiResult } from '../api/types';

/** A Dapr-style JSON error answer: `{errorCode, message}`. */
export function daprError(status: number, errorCode: string, message: string): ApiResult {
  return { status, body: { errorCode, message } };
}

/** Component configuration that cannot work; reported at startup with the component name. */
export class PubSubConfigError extends Error {
  override readonly name = 'PubSubConfigError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
