import { z } from 'zod';
import {
  changePasswordRequestSchema,
  identityOperations,
  registerRequestSchema,
  setRolesRequestSchema,
} from '@quizmesh/contracts/identity-api';

/** The distinct fields a failed parse names. */
const fieldsOf = (result: { error?: z.ZodError }) => [
  ...new Set(result.error?.issues.map((i) => i.path.join('.')) ?? []),
];

describe('identity API contracts', () => {
  it('normalises email (trim, NFC, lower case) and display name (trim, NFC), and NFKC passwords', () => {
    const parsed = registerRequestSchema.parse({
      email: '  Ada.Lovelace@Example.COM ',
      displayName: '  Zoe\u0301 ',
      password: 'ｆｕｌｌｗｉｄｔｈ-pass',
    });
    expect(parsed).toEqual({ email: 'ada.lovelace@example.com', displayName: 'Zoé', password: 'fullwidth-pass' });
  });

  it('counts code points: 50 emoji are a valid display name, 51 are not', () => {
    const base = { email: 'a@example.com', password: 'long enough pw' };
    expect(registerRequestSchema.safeParse({ ...base, displayName: '😀'.repeat(50) }).success).toBe(true);
    expect(fieldsOf(registerRequestSchema.safeParse({ ...base, displayName: '😀'.repeat(51) }))).toEqual([
      'displayName',
    ]);
  });

  it.each([
    ['a NUL byte', 'Ada\u0000'],
    ['a right-to-left override', 'Ada\u202Eevil'],
    ['zalgo combining marks', `x${'\u0301\u0302\u0303\u0304\u0305'}`],
    ['only spaces', '   '],
    ['only a zero-width joiner', '\u200D'],
  ])('rejects a display name with %s', (_name, displayName) => {
    expect(
      fieldsOf(registerRequestSchema.safeParse({ email: 'a@example.com', displayName, password: 'long enough pw' })),
    ).toEqual(['displayName']);
  });

  it('keeps right-to-left scripts and emoji sequences', () => {
    for (const displayName of ['مريم', 'שלום עולם', '👩‍💻 Ada', 'Ñandú']) {
      expect(
        registerRequestSchema.safeParse({ email: 'a@example.com', displayName, password: 'long enough pw' }).success,
      ).toBe(true);
    }
  });

  it.each([
    ['too short', 'short1234'],
    ['too long', 'x1'.repeat(65)],
    ['a common password', 'Password123'],
    ['one repeated character', 'aaaaaaaaaaaa'],
    ['the email itself', 'ada@example.com'],
  ])('rejects a password that is %s', (_name, password) => {
    expect(
      fieldsOf(registerRequestSchema.safeParse({ email: 'ada@example.com', displayName: 'Ada', password })),
    ).toEqual(['password']);
  });

  it('rejects unknown fields instead of ignoring them (no role self-assignment)', () => {
    const result = registerRequestSchema.safeParse({
      email: 'a@example.com',
      displayName: 'A',
      password: 'long enough pw',
      roles: ['admin'],
    });
    expect(result.error?.issues[0]?.message).toMatch(/roles/);
  });

  it('rejects repeated roles and an unchanged password', () => {
    expect(fieldsOf(setRolesRequestSchema.safeParse({ roles: ['player', 'player'] }))).toEqual(['roles']);
    expect(
      fieldsOf(
        changePasswordRequestSchema.safeParse({ currentPassword: 'same old pw 1', newPassword: 'same old pw 1' }),
      ),
    ).toEqual(['newPassword']);
  });

  it('renders every operation as JSON Schema with named components for OpenAPI', () => {
    for (const op of identityOperations) {
      for (const schema of [op.body, op.query, op.params]) if (schema) z.toJSONSchema(schema, { io: 'input' });
      if (op.response.schema) z.toJSONSchema(op.response.schema, { io: 'output' });
    }
    const json = z.toJSONSchema(registerRequestSchema, { io: 'input' }) as {
      $defs?: Record<string, { properties?: Record<string, { maxLength?: number }> }>;
    };
    expect(json.$defs?.RegisterRequest?.properties?.password?.maxLength).toBe(128);
    expect(new Set(identityOperations.map((o) => o.operationId)).size).toBe(identityOperations.length);
  });
});
