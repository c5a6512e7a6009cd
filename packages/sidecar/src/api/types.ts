/** What a handler of the sidecar's HTTP API answers; `api/respond.ts` writes it. */
/** A Dapr-style answer: status, optional JSON error body `{errorCode, message}` or raw body. */
export interface ApiResult {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | object;
}
