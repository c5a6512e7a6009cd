/**
 * The identity HTTP API: request and response schemas, used by identity to validate requests
 * and by the gateway to generate its OpenAPI 3.1 document (`z.toJSONSchema(schema, { io: 'input' })`
 * for requests, `io: 'output'` for responses), so the two cannot drift. `identityOperations`
 * lists every route with its schemas and who may call it.
 *
 * Normalisation happens in the schemas (zod overwrites: trim, NFC/NFKC, lower-case), so a
 * parsed value is always the canonical one. Length limits count Unicode code points, as JSON
 * Schema's minLength/maxLength do (zod's .min/.max count UTF-16 units, hence the refinements).
 */
import { z } from 'zod';
import type { ApiOperation } from './operations';
import { roleSchema } from './events';
import { FORBIDDEN_CHARACTERS_MESSAGE, hasForbiddenCharacters } from './text';

export { roleSchema };
export type Role = z.infer<typeof roleSchema>;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;
export const DISPLAY_NAME_MAX_LENGTH = 50;
export const EMAIL_MAX_LENGTH = 254;

const codePoints = (value: string) => [...value].length;
// Passwords are never shown, so only what cannot be typed or stored is refused (a wider rule
// would lock out accounts whose passwords hold, say, a zero-width space).
const PASSWORD_CONTROLS = /[\p{Cc}\p{Cs}]/u;
// More than three combining marks on one base character is "zalgo" text, not a script's diacritics.
const COMBINING_PILE = /\p{M}{4,}/u;
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;

/** Passwords nobody should be allowed to pick, even when long enough. */
const COMMON_PASSWORDS = new Set([
  '1234567890',
  '0123456789',
  '12345678910',
  '0987654321',
  'password12',
  'password123',
  'password1234',
  'passw0rd123',
  'qwertyuiop',
  'qwerty12345',
  'qwerty123456',
  'iloveyou123',
  'letmein1234',
  'administrator',
  'welcome123',
  '1q2w3e4r5t',
  'abc1234567',
  'quizmesh123',
]);

export const emailSchema = z
  .string()
  .trim()
  .normalize('NFC')
  .toLowerCase()
  .max(EMAIL_MAX_LENGTH)
  // zod's own (ASCII) email pattern: internationalised addresses are refused with a clear 400
  // rather than stored in a form mail relays may not deliver to (docs/decisions/0402).
  .regex(z.regexes.email, 'must be an email address such as ada@example.com')
  .meta({
    description: 'Trimmed and lower-cased before use; unique per account.',
    format: 'email',
    examples: ['ada@example.com'],
  });

export const displayNameSchema = z
  .string()
  .trim()
  .normalize('NFC')
  .refine((v) => !hasForbiddenCharacters(v), FORBIDDEN_CHARACTERS_MESSAGE)
  .refine((v) => codePoints(v) >= 1 && codePoints(v) <= DISPLAY_NAME_MAX_LENGTH, {
    message: `must be 1 to ${DISPLAY_NAME_MAX_LENGTH} characters`,
  })
  .refine((v) => VISIBLE.test(v), 'must contain at least one visible character')
  .refine((v) => !COMBINING_PILE.test(v), 'must not stack more than three combining marks on one character')
  .meta({
    description: `Shown to other players. 1 to ${DISPLAY_NAME_MAX_LENGTH} characters after trimming; any script and emoji.`,
    minLength: 1,
    maxLength: DISPLAY_NAME_MAX_LENGTH,
    examples: ['Ada Lovelace'],
  });

/**
 * NFKC-normalised (NIST SP 800-63B 5.1.1.2) so the same password typed on different keyboards
 * matches; spaces and any script allowed, controls are not.
 */
export const passwordSchema = z
  .string()
  .normalize('NFKC')
  .refine((v) => !PASSWORD_CONTROLS.test(v), 'must not contain control characters')
  .refine((v) => codePoints(v) >= PASSWORD_MIN_LENGTH && codePoints(v) <= PASSWORD_MAX_LENGTH, {
    message: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
  })
  .refine((v) => new Set(v).size > 2, 'must not repeat one or two characters')
  .refine((v) => !COMMON_PASSWORDS.has(v.toLowerCase()), 'is too common')
  .meta({
    description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters; not a common password; never logged.`,
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    format: 'password',
    writeOnly: true,
  });

/** A password presented for verification: no policy (old accounts), only a sane bound. */
const presentedPasswordSchema = z
  .string()
  .normalize('NFKC')
  .min(1, 'is required')
  .refine((v) => codePoints(v) <= PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .meta({ format: 'password', writeOnly: true, maxLength: PASSWORD_MAX_LENGTH });

/** 32 random bytes, base64url without padding. */
export const refreshTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a refresh token issued by this service')
  .meta({ description: 'Opaque refresh token (43 characters, base64url).', writeOnly: true });

// ---------------------------------------------------------------------------------- requests

export const registerRequestSchema = z
  .strictObject({ email: emailSchema, displayName: displayNameSchema, password: passwordSchema })
  .refine((r) => typeof r.password !== 'string' || r.password.toLowerCase() !== r.email, {
    path: ['password'],
    message: 'must not be your email',
  })
  .meta({ id: 'RegisterRequest', description: 'Create an account (role player).' });

export const loginRequestSchema = z
  .strictObject({ email: emailSchema, password: presentedPasswordSchema })
  .meta({ id: 'LoginRequest', description: 'Exchange email and password for a token pair.' });

export const refreshRequestSchema = z
  .strictObject({ refreshToken: refreshTokenSchema })
  .meta({ id: 'RefreshRequest', description: 'Rotate a refresh token: the old one stops working.' });

export const logoutRequestSchema = z
  .strictObject({ refreshToken: refreshTokenSchema })
  .meta({ id: 'LogoutRequest', description: 'End the session (token family) this refresh token belongs to.' });

export const updateProfileRequestSchema = z
  .strictObject({ displayName: displayNameSchema.optional() })
  .refine((r) => Object.values(r).some((v) => v !== undefined), { message: 'nothing to update' })
  .meta({ id: 'UpdateProfileRequest', description: 'Change the fields given; others stay.' });

export const changePasswordRequestSchema = z
  .strictObject({ currentPassword: presentedPasswordSchema, newPassword: passwordSchema })
  .refine((r) => typeof r.currentPassword !== 'string' || r.currentPassword !== r.newPassword, {
    path: ['newPassword'],
    message: 'must differ from the current password',
  })
  .meta({
    id: 'ChangePasswordRequest',
    description: 'Every session of the account ends; the answer carries a fresh token pair for this device.',
  });

export const setRolesRequestSchema = z
  .strictObject({
    roles: z
      .array(roleSchema)
      .min(1)
      .max(3)
      .refine((roles) => new Set(roles).size === roles.length, 'must not repeat a role'),
  })
  .meta({ id: 'SetRolesRequest', description: 'Replace the roles of an account (admin only).' });

export const userIdParamsSchema = z.object({ id: z.uuid({ message: 'must be a user id (UUID)' }) });

export const listUsersQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** `nextCursor` of the previous page */
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the nextCursor of a previous page')
      .optional(),
  })
  .meta({ id: 'ListUsersQuery' });

// --------------------------------------------------------------------------------- responses

export const tokenResponseSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    /** ES256 JWT */
    accessToken: z.string(),
    /** seconds until the access token expires */
    expiresIn: z.number().int().positive(),
    refreshToken: z.string(),
    refreshTokenExpiresAt: z.iso.datetime(),
  })
  .meta({ id: 'TokenResponse', description: 'An access token (JWT) and the refresh token that renews it.' });

export const playerStatsSchema = z
  .object({
    attempts: z.number().int().nonnegative(),
    /** best score / maxScore of any attempt, in percent, two decimals; null before the first attempt */
    bestScorePercent: z.number().min(0).max(100).nullable(),
    lastPlayedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'PlayerStats', description: 'Kept from score.calculated events.' });

export const userProfileSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    roles: z.array(roleSchema),
    createdAt: z.iso.datetime(),
    stats: playerStatsSchema,
  })
  .meta({ id: 'UserProfile', description: 'An account as its owner (or an admin) sees it.' });

export const registerResponseSchema = z
  .object({ user: userProfileSchema, tokens: tokenResponseSchema })
  .meta({ id: 'RegisterResponse' });

export const userListSchema = z
  .object({ items: z.array(userProfileSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'UserList', description: 'Newest first; pass nextCursor to get the next page.' });

export const jwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        use: z.literal('sig'),
        alg: z.literal('ES256'),
      }),
    ),
  })
  .meta({ id: 'Jwks', description: 'Public keys that verify access tokens (two during a key rotation).' });

/** The claims of an access token. */
export const accessTokenClaimsSchema = z
  .object({
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    sub: z.uuid(),
    exp: z.number().int(),
    iat: z.number().int(),
    nbf: z.number().int(),
    jti: z.uuid(),
    roles: z.array(roleSchema),
  })
  .meta({ id: 'AccessTokenClaims' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

// -------------------------------------------------------------------------------- operations

export type { Access } from './operations';
export type IdentityOperation = ApiOperation<'get' | 'post' | 'patch' | 'put'>;

export const identityOperations: readonly IdentityOperation[] = [
  {
    operationId: 'register',
    method: 'post',
    path: '/api/v1/auth/register',
    summary: 'Create an account and sign in',
    access: 'public',
    body: registerRequestSchema,
    response: { status: 201, schema: registerResponseSchema },
    errors: [409],
    rateLimit: 'register',
  },
  {
    operationId: 'login',
    method: 'post',
    path: '/api/v1/auth/login',
    summary: 'Sign in with email and password',
    access: 'public',
    body: loginRequestSchema,
    response: { status: 200, schema: tokenResponseSchema },
    errors: [401],
    rateLimit: 'login',
  },
  {
    operationId: 'refresh',
    method: 'post',
    path: '/api/v1/auth/refresh',
    summary: 'Rotate the refresh token and get a new access token',
    access: 'public',
    body: refreshRequestSchema,
    response: { status: 200, schema: tokenResponseSchema },
    errors: [401],
  },
  {
    operationId: 'logout',
    method: 'post',
    path: '/api/v1/auth/logout',
    summary: 'Sign out this device',
    access: 'public',
    body: logoutRequestSchema,
    response: { status: 204 },
    errors: [],
  },
  {
    operationId: 'logoutAll',
    method: 'post',
    path: '/api/v1/auth/logout-all',
    summary: 'Sign out every device',
    access: 'user',
    response: { status: 204 },
    errors: [401],
  },
  {
    operationId: 'getMe',
    method: 'get',
    path: '/api/v1/users/me',
    summary: 'My profile and stats',
    access: 'user',
    response: { status: 200, schema: userProfileSchema },
    errors: [401, 404],
  },
  {
    operationId: 'updateMe',
    method: 'patch',
    path: '/api/v1/users/me',
    summary: 'Change my profile',
    access: 'user',
    body: updateProfileRequestSchema,
    response: { status: 200, schema: userProfileSchema },
    errors: [401, 404],
  },
  {
    operationId: 'changePassword',
    method: 'post',
    path: '/api/v1/users/me/password',
    summary: 'Change my password (signs out every other device)',
    access: 'user',
    body: changePasswordRequestSchema,
    response: { status: 200, schema: tokenResponseSchema },
    errors: [401, 404],
  },
  {
    operationId: 'getUser',
    method: 'get',
    path: '/api/v1/users/{id}',
    summary: 'An account (self or admin)',
    access: 'user',
    params: userIdParamsSchema,
    response: { status: 200, schema: userProfileSchema },
    errors: [401, 403, 404],
  },
  {
    operationId: 'listUsers',
    method: 'get',
    path: '/api/v1/admin/users',
    summary: 'Every account, newest first (admin)',
    access: 'admin',
    query: listUsersQuerySchema,
    response: { status: 200, schema: userListSchema },
    errors: [401, 403],
  },
  {
    operationId: 'setUserRoles',
    method: 'put',
    path: '/api/v1/admin/users/{id}/roles',
    summary: "Replace an account's roles (admin)",
    access: 'admin',
    params: userIdParamsSchema,
    body: setRolesRequestSchema,
    response: { status: 200, schema: userProfileSchema },
    errors: [401, 403, 404, 409],
  },
  {
    operationId: 'jwks',
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys for access-token verification',
    access: 'public',
    response: { status: 200, schema: jwksSchema },
    errors: [503],
  },
];

/** The seed design's paths: served by identity with the handler of the operation they name, routed alike by the gateway. */
export const identitySeedAliases = {
  'POST /api/users/register': 'POST /api/v1/auth/register',
  'POST /api/users/login': 'POST /api/v1/auth/login',
  'GET /api/users/profile': 'GET /api/v1/users/me',
} as const;

export type RegisterRequest = z.infer<typeof registerRequestSchema>;
export type LoginRequest = z.infer<typeof loginRequestSchema>;
export type TokenResponse = z.infer<typeof tokenResponseSchema>;
export type UserProfile = z.infer<typeof userProfileSchema>;
export type UserList = z.infer<typeof userListSchema>;
export type Jwks = z.infer<typeof jwksSchema>;
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;
