/**
 * quiz behind the real gateway, with identity for tokens, each with its local sidecar and
 * embedded database, started by the launcher exactly as `npm start` does (so this also runs
 * quiz's main.ts, migrations, Subscriptions and outbox relay as shipped). Checks that quiz's
 * contract survives the hop: public reads without a token, roles from the JWT, 202 + Location,
 * problem+json, the seed paths.
 */
import { startPlatform, type StartedPlatform } from '@quizmesh/launcher';
import { registerResponseSchema } from '@quizmesh/contracts/identity-api';
import {
  attemptAcceptedSchema,
  attemptSchema,
  authorQuizSchema,
  playerQuizSchema,
  quizListSchema,
  quizPublishedRead,
  startAttemptResponseSchema,
} from '@quizmesh/contracts/quiz-api';
import { quizBody } from './harness';

const PASSWORD = 'analytical engine 1843';
const ADMIN_EMAIL = 'quiz.admin@example.com';

let platform: StartedPlatform;

beforeAll(async () => {
  platform = await startPlatform({
    services: ['identity', 'quiz'],
    serviceEnv: { identity: { IDENTITY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL } },
  });
}, 180_000);
afterAll(() => platform?.stop(), 60_000);

const call = (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${platform.gatewayUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function signUp(email: string): Promise<string> {
  const res = await call('POST', '/api/v1/auth/register', { email, displayName: 'Quiz tester', password: PASSWORD });
  expect(res.status).toBe(201);
  return registerResponseSchema.parse(await res.json()).tokens.accessToken;
}

describe('quiz through the gateway', () => {
  it('lets an admin publish, anyone read without answer keys, and a player start and submit an attempt', async () => {
    const adminToken = await signUp(ADMIN_EMAIL);
    const playerToken = await signUp('quiz.player@example.com');

    const forbidden = await call('POST', '/api/v1/quizzes', quizBody(), playerToken);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await call('POST', '/api/v1/quizzes', quizBody())).status).toBe(401);

    const created = await call('POST', '/api/quizzes', quizBody({ title: 'Through the gateway' }), adminToken);
    expect(created.status).toBe(201);
    const draft = authorQuizSchema.parse(await created.json());
    expect(created.headers.get('location')).toBe(`/api/v1/quizzes/${draft.id}`);
    // ETag and If-Match survive the hop: a stale edit is refused.
    const etag = created.headers.get('etag') ?? '';
    const edited = await call('PATCH', `/api/v1/quizzes/${draft.id}`, { description: 'Edited' }, adminToken, {
      'if-match': etag,
    });
    expect(edited.status).toBe(200);
    expect(
      (await call('PATCH', `/api/v1/quizzes/${draft.id}`, { description: 'Stale' }, adminToken, { 'if-match': etag }))
        .status,
    ).toBe(412);
    expect((await call('POST', `/api/v1/quizzes/${draft.id}/publish`, undefined, adminToken)).status).toBe(200);

    // quiz's internal read of a version's quiz.published (evaluation's, decision 1080) is not
    // routed: not as is, not under /api, not by a path that climbs out of /api.
    const internal = quizPublishedRead.method(draft.id, 1);
    for (const path of [
      `/${internal}`,
      `/api/${internal}`,
      `/api/v1/quizzes/../../${internal}`,
      `/api/v1/quizzes/%2e%2e/%2e%2e/${internal}`,
      `/api/v1/quizzes/..%2f..%2f${internal.replaceAll('/', '%2f')}`,
    ]) {
      for (const token of [undefined, adminToken]) {
        const res = await call('GET', path, undefined, token);
        const text = await res.text();
        // Encoded slashes stay inside one segment: getQuiz's id, which is no quiz id (400).
        expect([path, res.status]).toEqual([path, path.includes('%2f') ? 400 : 404]);
        expect(text).not.toContain('correctOptionIds');
      }
    }

    for (const path of [`/api/v1/quizzes/${draft.id}`, `/api/quizzes/${draft.id}`]) {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('"correct"');
      expect(playerQuizSchema.parse(JSON.parse(text))).toMatchObject({ id: draft.id, title: 'Through the gateway' });
    }
    const list = quizListSchema.parse(await (await call('GET', `/api/v1/quizzes?q=gateway`)).json());
    expect(list.items.map((i) => i.id)).toContain(draft.id);

    const started = await call('POST', `/api/v1/quizzes/${draft.id}/attempts`, undefined, playerToken);
    expect(started.status).toBe(201);
    const { attempt } = startAttemptResponseSchema.parse(await started.json());
    const answers = draft.questions.map((q) => ({ questionId: q.id, optionIds: [q.options[1]?.id ?? ''] }));
    const submitted = await call('POST', `/api/v1/attempts/${attempt.id}/submit`, { answers }, playerToken);
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/api/v1/attempts/${attempt.id}`);
    expect(attemptAcceptedSchema.parse(await submitted.json())).toMatchObject({
      attemptId: attempt.id,
      status: 'SUBMITTED',
    });

    const polled = await call('GET', `/api/v1/attempts/${attempt.id}`, undefined, playerToken);
    expect(attemptSchema.parse(await polled.json())).toMatchObject({ status: 'SUBMITTED', answers });
    expect((await call('GET', `/api/v1/attempts/${attempt.id}`, undefined, adminToken)).status).toBe(200);
    expect((await call('GET', `/api/v1/attempts/${attempt.id}`)).status).toBe(401);

    // The review: nothing before scoring (no evaluation runs here), its player only, ids checked.
    const early = await call('GET', `/api/v1/attempts/${attempt.id}/review`, undefined, playerToken);
    expect(early.status).toBe(409);
    expect(await early.text()).not.toContain('"correct"');
    expect((await call('GET', `/api/v1/attempts/${attempt.id}/review`, undefined, adminToken)).status).toBe(403);
    expect((await call('GET', `/api/v1/attempts/${attempt.id}/review`)).status).toBe(401);
    const badId = await call('GET', '/api/v1/attempts/not-an-id/review', undefined, playerToken);
    expect(badId.status).toBe(400);
    expect(await badId.text()).toContain('params.id');
  });
});
