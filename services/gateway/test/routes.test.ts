import { randomUUID } from 'node:crypto';
import { systemOperations } from '@quizmesh/contracts/system';
import { resolveRoute } from '../src/routes';

const concrete = (path: string) => path.replace(/\{version\}/g, '2').replace(/\{(\w+)\}/g, () => randomUUID());

describe('dead-letter admin routes', () => {
  it.each([
    ['GET', '/api/v1/admin/dead-letters/quiz', 'quiz', '/api/v1/admin/dead-letters'],
    ['POST', '/api/v1/admin/dead-letters/identity/replay', 'identity', '/api/v1/admin/dead-letters/replay'],
    [
      'POST',
      '/api/v1/admin/dead-letters/notification/AbCdEfGhIjKlMnOpQrStUv/replay',
      'notification',
      '/api/v1/admin/dead-letters/AbCdEfGhIjKlMnOpQrStUv/replay',
    ],
    [
      'DELETE',
      '/api/v1/admin/dead-letters/evaluation/AbCdEfGhIjKlMnOpQrStUv',
      'evaluation',
      '/api/v1/admin/dead-letters/AbCdEfGhIjKlMnOpQrStUv',
    ],
  ])('%s %s goes to %s as %s, admins only', (method, path, appId, upstreamPath) => {
    expect(resolveRoute(method, path)).toEqual({
      appId,
      access: 'admin',
      limit: undefined,
      pattern: '/api/v1/admin/dead-letters/{appId}/*',
      template: '/api/v1/admin/dead-letters/{appId}/*',
      upstreamPath,
    });
  });

  it('knows no other app and no app-less path', () => {
    expect(resolveRoute('GET', '/api/v1/admin/dead-letters/gateway')).toBeUndefined();
    expect(resolveRoute('GET', '/api/v1/admin/dead-letters')).toBeUndefined();
  });

  it('leaves every other route as it was (no upstream rewrite)', () => {
    expect(resolveRoute('GET', '/api/v1/quizzes/1')?.upstreamPath).toBeUndefined();
  });
});

describe('route table (from the system registry)', () => {
  it.each(systemOperations().map((op) => [op.method.toUpperCase(), op.path, op] as const))(
    'routes %s %s to its app with the documented access and rate limit',
    (method, path, op) => {
      expect(resolveRoute(method, concrete(path))).toMatchObject({
        appId: op.appId,
        access: op.access,
        limit: op.rateLimit,
        pattern: `${method} ${path}`,
        template: path,
      });
    },
  );

  it.each([
    ['POST', '/api/v1/auth/register', 'identity', 'public', 'register'],
    ['POST', '/api/users/register', 'identity', 'public', 'register'],
    ['POST', '/api/v1/auth/login', 'identity', 'public', 'login'],
    ['POST', '/api/users/login', 'identity', 'public', 'login'],
    ['POST', '/api/v1/auth/logout', 'identity', 'public', undefined],
    ['POST', '/api/v1/auth/logout-all', 'identity', 'user', undefined],
    ['GET', '/.well-known/jwks.json', 'identity', 'public', undefined],
    ['GET', '/api/users/profile', 'identity', 'user', undefined],
    ['GET', '/api/v1/admin/users', 'identity', 'admin', undefined],
    ['PUT', '/api/v1/admin/users/u1/roles', 'identity', 'admin', undefined],
    ['GET', '/api/v1/quizzes', 'quiz', 'public', undefined],
    ['HEAD', '/api/v1/quizzes/q1', 'quiz', 'public', undefined],
    ['PATCH', '/api/v1/quizzes/q1', 'quiz', 'user', undefined],
    ['POST', '/api/quizzes', 'quiz', 'user', undefined],
    ['GET', '/api/leaderboard', 'evaluation', 'public', undefined],
    ['GET', '/api/v1/leaderboards/global', 'evaluation', 'public', undefined],
    ['GET', '/api/v1/leaderboards/quiz/q1', 'evaluation', 'public', undefined],
    ['GET', '/api/v1/leaderboards/weekly/2026-W47', 'evaluation', 'public', undefined],
    ['GET', '/api/v1/leaderboards/weekly/current', 'evaluation', 'public', undefined],
    ['GET', '/api/v1/leaderboards/global/players/u1', 'evaluation', 'user', undefined],
    ['GET', '/api/v1/leaderboards/weekly/current/players/u1', 'evaluation', 'user', undefined],
    ['GET', '/api/v1/attempts/a1/review', 'quiz', 'user', undefined],
    ['POST', '/api/results/submit', 'evaluation', 'user', undefined],
    ['POST', '/api/v1/notifications/read-all', 'notification', 'user', undefined],
  ])('%s %s goes to %s, access %s, limit %s', (method, path, appId, access, limit) => {
    expect(resolveRoute(method, path)).toMatchObject({ appId, access, limit });
  });

  it('prefers a literal segment to a parameter (/users/me is getMe, not getUser)', () => {
    expect(resolveRoute('GET', '/api/v1/users/me')?.pattern).toBe('GET /api/v1/users/me');
    expect(resolveRoute('GET', '/api/v1/users/someone')?.pattern).toBe('GET /api/v1/users/{id}');
    expect(resolveRoute('GET', '/api/v1/leaderboards/weekly/current')?.pattern).toBe(
      'GET /api/v1/leaderboards/weekly/current',
    );
  });

  it.each([
    ['DELETE', '/api/v1/quizzes/q1'],
    ['GET', '/api/v1/quizzes/q1/nothing'],
    ['GET', '/api/v1/auth'],
    ['GET', '/api/v1/users'],
    ['POST', '/api/v1/results/r1'],
    ['GET', '/api/v1/quizzes/'],
    ['GET', '/api/v1/Quizzes'],
    ['GET', '/api/v1/quizzes//versions'],
  ])('denies %s %s, which no operation declares', (method, path) => {
    expect(resolveRoute(method, path)).toBeUndefined();
  });
});
