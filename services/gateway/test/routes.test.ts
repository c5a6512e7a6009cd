import { resolveRoute } from '../src/routes';

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
      access: { kind: 'role', roles: ['admin'] },
      limit: undefined,
      pattern: '/api/v1/admin/dead-letters/{appId}/*',
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
