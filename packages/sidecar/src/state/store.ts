/** What the state API needs from a state store component (keys arrive already prefixed). */
export interface StoredItem {
  /** the JSON text saved by the app */
  value: string;
  etag: string;
  /** epoch ms, when a TTL applies */
  expiresAt: number | undefined;
}

export interface SetRequest {
  key: string;
  value: string;
  etag: string | undefined;
  firstWrite: boolean;
  /** undefined: store default; -1: never expire */
  ttlSeconds: number | undefined;
}

export interface DeleteRequest {
  key: string;
  etag: string | undefined;
  firstWrite: boolean;
}

export type TransactionOperation = ({ operation: 'upsert' } & SetRequest) | ({ operation: 'delete' } & DeleteRequest);

/** An ETag that does not match the stored one (409). */
export class EtagMismatchError extends Error {
  constructor(key: string) {
    super(`possible etag mismatch for key ${key}`);
    this.name = 'EtagMismatchError';
  }
}

/** An ETag the store cannot interpret (400). */
export class EtagInvalidError extends Error {
  constructor(etag: string) {
    super(`invalid etag value: ${etag}`);
    this.name = 'EtagInvalidError';
  }
}

export interface StateStore {
  readonly features: string[];
  get(key: string): Promise<StoredItem | undefined>;
  set(req: SetRequest): Promise<void>;
  delete(req: DeleteRequest): Promise<void>;
  /** All or nothing: any ETag failure leaves the store unchanged. */
  multi(ops: TransactionOperation[]): Promise<void>;
  close(): Promise<void>;
}

export function parseTtl(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -1) throw new Error(`${field} must be an integer >= -1, got "${raw}"`);
  return n;
}
