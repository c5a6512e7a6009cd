/**
 * `secretstores.local.file`: a JSON file read at startup (path relative to the process cwd,
 * as daprd's working directory). Nested objects flatten to `a:b`, array items to `a:0`;
 * with `multiValued` each top-level key is one secret whose flattened object is its map.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SecretNotFoundError, type SecretStore } from './store';

function render(value: unknown): string {
  // daprd uses Go's %s, which renders non-strings like this; keep leaf values as strings.
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return `%!s(float64=${value})`;
  if (typeof value === 'boolean') return `%!s(bool=${value})`;
  return '%!s(<nil>)';
}

function flatten(value: unknown, prefix: string, separator: string, out: Record<string, string>): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, prefix === '' ? String(i) : `${prefix}${separator}${i}`, separator, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value))
      flatten(v, prefix === '' ? k : `${prefix}${separator}${k}`, separator, out);
  } else {
    out[prefix] = render(value);
  }
}

export class LocalFileSecretStore implements SecretStore {
  private readonly secrets: Record<string, Record<string, string>> = {};

  constructor(secretsFile: string, nestedSeparator: string, multiValued: boolean) {
    const text = readFileSync(resolve(secretsFile), 'utf8');
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${secretsFile} must hold a JSON object`);
    if (multiValued) {
      for (const [name, value] of Object.entries(parsed)) {
        const map: Record<string, string> = {};
        if (typeof value === 'object' && value !== null) flatten(value, '', nestedSeparator, map);
        else map[name] = render(value);
        this.secrets[name] = map;
      }
    } else {
      const flat: Record<string, string> = {};
      flatten(parsed, '', nestedSeparator, flat);
      for (const [name, value] of Object.entries(flat)) this.secrets[name] = { [name]: value };
    }
  }

  async get(key: string): Promise<Record<string, string>> {
    const secret = Object.hasOwn(this.secrets, key) ? this.secrets[key] : undefined;
    if (!secret) throw new SecretNotFoundError(key);
    return { ...secret };
  }

  async bulk(): Promise<Record<string, Record<string, string>>> {
    return structuredClone(this.secrets);
  }
}
