/** Scheduled jobs: the route a Dapr cron binding calls, guarded by the app API token. */
import request from 'supertest';
import { pino } from 'pino';
import { createHttpApp, mountScheduledJob } from '../src';

const logger = pino({ level: 'silent' });

function appWith(run: () => Promise<Record<string, unknown>>, appApiToken?: string) {
  let runs = 0;
  const app = createHttpApp({
    service: 'test',
    logger,
    jsonBodyLimit: '1kb',
    routes: (a) =>
      mountScheduledJob(
        a,
        {
          binding: 'nightly-cleanup',
          run: async () => {
            runs += 1;
            return run();
          },
        },
        { logger, appApiToken },
      ),
  });
  return { app, runs: () => runs };
}

describe('mountScheduledJob', () => {
  it('runs the job on the POST the cron binding sends and answers what it did', async () => {
    const { app, runs } = appWith(async () => ({ deleted: 3 }));
    const res = await request(app).post('/nightly-cleanup');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted: 3 });
    expect(runs()).toBe(1);
  });

  it('answers the OPTIONS probe the sidecar sends before the first tick', async () => {
    const { app, runs } = appWith(async () => ({}));
    const res = await request(app).options('/nightly-cleanup');
    expect(res.status).toBeLessThan(300);
    expect(runs()).toBe(0);
  });

  it('refuses callers without the app API token when one is configured, without running the job', async () => {
    const { app, runs } = appWith(async () => ({}), 's3cret-token');
    const missing = await request(app).post('/nightly-cleanup');
    const wrong = await request(app).post('/nightly-cleanup').set('dapr-api-token', 'guess');
    for (const res of [missing, wrong]) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(runs()).toBe(0);
    expect((await request(app).post('/nightly-cleanup').set('dapr-api-token', 's3cret-token')).status).toBe(200);
    expect(runs()).toBe(1);
  });

  it('answers 500 problem+json when the job fails, so the sidecar logs the failed tick', async () => {
    const { app } = appWith(async () => {
      throw new Error('database unreachable at 10.0.0.5');
    });
    const res = await request(app).post('/nightly-cleanup');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(res.body)).not.toContain('10.0.0.5');
  });
});
