/**
 * Local secrets for the `secretstores.local.file` component: generated on first run into
 * .quizmesh/secrets.json (git-ignored, mode 0600), never committed. Kubernetes uses real Secrets.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';

type SecretTree = Record<string, unknown>;

/** A fresh ES256 (P-256) signing key with a unique key id. */
export function newSigningKey(): { kid: string; privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: randomUUID(), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * identity's access-token keys (docs/decisions/0401-jwt-signing-keys-secret.md): ONE string value
 * holding JSON `{ current: {kid, privateKeyPem}, previous?: {kid, publicKeyPem | privateKeyPem} }`.
 * A string, not a nested object: the local file store flattens nested objects into separate
 * secrets (`jwt-signing-keys:current:kid`), and a Kubernetes Secret cannot mirror that shape;
 * a single value reads the same from both (`getSecret('secretstore', 'jwt-signing-keys')`).
 */
export const JWT_SIGNING_KEYS = 'jwt-signing-keys';

/** Secrets every local run needs; each generator runs only when its key is missing. */
const generators: Record<string, () => unknown> = {
  [JWT_SIGNING_KEYS]: () => JSON.stringify({ current: newSigningKey() }),
};

/** Files written before the string format held the keys as a nested object: keep the key, fix the shape. */
function migrate(secrets: SecretTree): boolean {
  const keys = secrets[JWT_SIGNING_KEYS];
  if (keys !== undefined && typeof keys === 'object' && keys !== null) {
    secrets[JWT_SIGNING_KEYS] = JSON.stringify(keys);
    return true;
  }
  return false;
}

/**
 * Rotation (local runs; on Kubernetes the same JSON goes into the Secret): the current key
 * becomes `previous` — still in the JWKS, so tokens it signed verify until they expire — and a
 * new key signs. Identity picks it up within SIGNING_KEYS_REFRESH_SECONDS.
 */
export function rotateSigningKeys(stateDir: string): { kid: string; previousKid: string | undefined } {
  const file = ensureLocalSecrets(stateDir);
  const secrets = JSON.parse(readFileSync(file, 'utf8')) as SecretTree;
  const parsed = JSON.parse(String(secrets[JWT_SIGNING_KEYS])) as { current?: { kid: string; privateKeyPem: string } };
  const next = newSigningKey();
  secrets[JWT_SIGNING_KEYS] = JSON.stringify({
    current: next,
    ...(parsed.current ? { previous: parsed.current } : {}),
  });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return { kid: next.kid, previousKid: parsed.current?.kid };
}

export function ensureLocalSecrets(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'secrets.json');
  const secrets: SecretTree = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SecretTree) : {};
  let changed = !existsSync(file) || migrate(secrets);
  for (const [key, generate] of Object.entries(generators)) {
    if (secrets[key] === undefined) {
      secrets[key] = generate();
      changed = true;
    }
  }
  if (changed) writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return file;
}
