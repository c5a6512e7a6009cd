/**
 * The operator reads a quiz's leaderboard for its Quiz status (players, top score) as itself, a
 * trusted service caller: no user needed for that board, and for nothing else.
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

  it('refuses other apps, other boards and a wrong token (401)', async () => {
    expect((await get(`/api/v1/leaderboards/quiz/${randomUUID()}`, 'notification')).status).toBe(401);
    expect((await get('/api/v1/leaderboards/global', 'operator')).status).toBe(401);
    expect((await get(`/api/v1/leaderboards/quiz/${randomUUID()}`, 'operator', 'wrong')).status).toBe(401);
  });
});
