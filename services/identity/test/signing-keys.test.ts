/** Signing keys: the launcher's secret format, rotation with `previous`, caching and failures. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { AppError } from '@quizmesh/platform';
import { ensureLocalSecrets, JWT_SIGNING_KEYS, rotateSigningKeys } from '@quizmesh/launcher';
import { parseSigningKeys, SigningKeyError, SigningKeys, type KeySource } from '../src/signing-keys';
import { TokenIssuer } from '../src/tokens';

const logger = pino({ level: 'silent' });
const settings = { issuer: 'iss', audience: 'aud', accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 3600 };

function readSecret(dir: string): string {
  const file = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, unknown>;
  return String(file[JWT_SIGNING_KEYS]);
}

describe('signing keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qm-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the launcher-generated secret and rotates to two published keys, old tokens still verifying', async () => {
    ensureLocalSecrets(dir);
    const first = parseSigningKeys(readSecret(dir));
    expect(first.jwks.keys).toHaveLength(1);
    const secretBefore = readSecret(dir);
    const oldToken = await new TokenIssuer(
      new SigningKeys({ read: async () => secretBefore }, 60_000, logger),
      settings,
    ).signAccessToken('6f1c1b8e-8a7c-4a47-9a57-2b2a8d6f4c11', ['player']);

    const { kid, previousKid } = rotateSigningKeys(dir);
    const rotated = parseSigningKeys(readSecret(dir));
    expect(rotated.signing.kid).toBe(kid);
    expect(rotated.jwks.keys.map((k) => k.kid)).toEqual([kid, previousKid]);
    expect(previousKid).toBe(first.signing.kid);

    const header = jwt.decode(oldToken, { complete: true })?.header;
    const jwk = rotated.jwks.keys.find((k) => k.kid === header?.kid);
    expect(jwk).toBeDefined();
    if (jwk)
      expect(
        jwt.verify(oldToken, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'] }),
      ).toMatchObject({ roles: ['player'] });
    for (const key of rotated.jwks.keys) expect(key).not.toHaveProperty('d');
  });

  it('converts a secrets file written in the old nested format', () => {
    ensureLocalSecrets(dir);
    const file = join(dir, 'secrets.json');
    const current = JSON.parse(readSecret(dir)) as unknown;
    writeFileSync(file, JSON.stringify({ [JWT_SIGNING_KEYS]: current }));
    ensureLocalSecrets(dir);
    expect(parseSigningKeys(readSecret(dir)).signing.kid).toBe((current as { current: { kid: string } }).current.kid);
  });

  it('accepts a SEC1 "EC PRIVATE KEY" PEM, as Helm\'s genPrivateKey "ecdsa" writes it', () => {
    const privateKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    expect(privateKeyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    const keys = parseSigningKeys(JSON.stringify({ current: { kid: 'helm-2026-11-21', privateKeyPem } }));
    expect(keys.jwks.keys).toEqual([expect.objectContaining({ kid: 'helm-2026-11-21', crv: 'P-256' })]);
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['no current key', '{}', /current/],
    ['a key that is not PEM', JSON.stringify({ current: { kid: 'k1', privateKeyPem: 'garbage' } }), /not a PEM/],
    [
      'an RSA key',
      JSON.stringify({
        current: {
          kid: 'k1',
          privateKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        },
      }),
      /P-256/,
    ],
  ])('refuses a secret with %s', (_what, value, message) => {
    expect(() => parseSigningKeys(value)).toThrow(SigningKeyError);
    expect(() => parseSigningKeys(value)).toThrow(message);
  });

  it('re-reads after the refresh period and keeps the last good keys when the store fails', async () => {
    ensureLocalSecrets(dir);
    let value: string | Error = readSecret(dir);
    let reads = 0;
    const source: KeySource = {
      read: async () => {
        reads += 1;
        if (value instanceof Error) throw value;
        return value;
      },
    };
    const keys = new SigningKeys(source, 0, logger);
    const before = (await keys.get()).signing.kid;
    rotateSigningKeys(dir);
    value = readSecret(dir);
    const after = (await keys.get()).signing.kid;
    expect(after).not.toBe(before);
    value = new Error('sidecar down');
    expect((await keys.get()).signing.kid).toBe(after);
    expect(reads).toBe(3);
  });

  it('answers 503 while no key could ever be loaded', async () => {
    const keys = new SigningKeys(
      { read: async () => Promise.reject(new Error('secret store unreachable')) },
      60_000,
      logger,
    );
    await expect(keys.get()).rejects.toBeInstanceOf(AppError);
    await expect(keys.check()).rejects.toMatchObject({ status: 503 });
  });
});
