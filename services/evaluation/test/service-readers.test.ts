/**
 * The operator reads a quiz's leaderboard for its Quiz status (players, top score) as itself, with
 * no user. Leaderboard pages are public, so it needs no exception of its own: like any caller it
 * must present the app token its sidecar carries, and a player's rank still needs a user.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { CALLER_APP_HEADER } from '@quizmesh/platform';
import { startEvaluation, type EvaluationUnderTest } from './harness';

describe('service readers of leaderboards', () => {
  let evaluation: EvaluationUnderTest;
  const token = 'app-token-for-this-test';

  beforeAll(async () => {
    evaluation = await startEvaluation({ backend: 'embedded', env: { APP_API_TOKEN: token } });
  });
  afterAll(async () => {
    await evaluation?.stop();
  });

  const get = (path: string, caller: string, presented = token) =>
    request(evaluation.url)
      .get(path)
      .set({ [CALLER_APP_HEADER]: caller, 'dapr-api-token': presented });

  it("lets the operator read a quiz's board without a user", async () => {
    const res = await get(`/api/v1/leaderboards/quiz/${randomUUID()}?limit=1`, 'operator');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalPlayers: 0, entries: [] });
  });

  it('serves the public boards to any app that presents the app token', async () => {
    expect((await get(`/api/v1/leaderboards/quiz/${randomUUID()}`, 'notification')).status).toBe(200);
    expect((await get('/api/v1/leaderboards/global', 'operator')).status).toBe(200);
  });

  it('refuses a wrong app token, and a rank or results without a user (401)', async () => {
    expect((await get(`/api/v1/leaderboards/quiz/${randomUUID()}`, 'operator', 'wrong')).status).toBe(401);
    expect((await get(`/api/v1/leaderboards/quiz/${randomUUID()}/players/${randomUUID()}`, 'operator')).status).toBe(
      401,
    );
    expect((await get(`/api/v1/results/users/${randomUUID()}`, 'operator')).status).toBe(401);
  });
});
