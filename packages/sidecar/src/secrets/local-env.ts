/** `secretstores.local.env`: process environment variables; a missing one is an empty string, as in contrib. */
import type { SecretStore } from './store';

export class LocalEnvSecretStore implements SecretStore {
  constructor(
    private readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async get(key: string): Promise<Record<string, string>> {
    return { [key]: this.env[`${this.prefix}${key}`] ?? '' };
  }

  async bulk(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [name, value] of Object.entries(this.env)) {
      if (value === undefined || !name.startsWith(this.prefix)) continue;
      const key = name.slice(this.prefix.length);
      out[key] = { [key]: value };
    }
    return out;
  }
}
