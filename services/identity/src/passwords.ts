/**
 * Password hashing with argon2id (docs/decisions/0402-identity-passwords-and-refresh-tokens.md). Parameters are
 * OWASP's first recommended set: 19 MiB memory, 2 passes, 1 lane — about 20-40 ms per hash on
 * one core, which bounds guessing on a stolen database without letting logins starve the CPU.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

// `Algorithm` is a const enum, which isolated-module transpilers (swc) cannot inline.
const ARGON2ID: Algorithm = 2;

export const ARGON2_OPTIONS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456, // KiB
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never verifies
  }
}

/**
 * Whether a stored hash was made with other parameters than today's (`$argon2id$v=19$m=…,t=…,p=…$…`):
 * login then stores a fresh hash, so raising the cost reaches every active account.
 */
export function needsRehash(passwordHash: string): boolean {
  const [, algorithm, , params = ''] = passwordHash.split('$');
  const found = Object.fromEntries(params.split(',').map((pair) => pair.split('=')));
  return (
    algorithm !== 'argon2id' ||
    Number(found.m) !== ARGON2_OPTIONS.memoryCost ||
    Number(found.t) !== ARGON2_OPTIONS.timeCost ||
    Number(found.p) !== ARGON2_OPTIONS.parallelism
  );
}

let dummyHash: Promise<string> | undefined;

/**
 * Burns the same time as a real verification, for logins with an unknown email, so response
 * time does not reveal whether an account exists.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(18).toString('base64'));
  await verifyPassword(await dummyHash, password);
  return false;
}
