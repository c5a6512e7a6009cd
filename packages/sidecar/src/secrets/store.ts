export interface SecretStore {
  /** One secret: several pairs when the store is multi-valued. Throws SecretNotFoundError when missing. */
  get(key: string): Promise<Record<string, string>>;
  bulk(): Promise<Record<string, Record<string, string>>>;
}

export class SecretNotFoundError extends Error {
  constructor(key: string) {
    super(`secret ${key} not found`);
    this.name = 'SecretNotFoundError';
  }
}
