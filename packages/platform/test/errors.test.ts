import request from 'supertest';
import { z } from 'zod';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import helmet from 'helmet';
import { AppError, createHttpApp, createLogger, listen, parseBody, requireRole, trustGatewayUser } from '../src';
import { eventually } from '../src/testing';

function appWithRoutes() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ service: 'test', destination });
  const app = createHttpApp({
    service: 'test',
    logger,
    jsonBodyLimit: '1kb',
    routes: (a) => {
      a.post('/things', (req, res) => {
        const body = parseBody(req, z.object({ name: z.string().min(1), count: z.number().int().positive() }));
        res.status(201).json(body);
      });
      a.all('/body', (req, res) => {
        res.json({ body: req.body === undefined ? 'undefined' : (req.body as unknown) });
      });
      a.get('/things/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      a.get('/busy', () => {
        throw Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), {
          name: 'PrismaClientKnownRequestError',
          code: 'P2028',
        });
      });
      a.get('/conflict', () => {
        throw AppError.conflict('thing already exists');
      });
      a.get('/boom', () => {
        throw new Error('database password is hunter2');
      });
      a.get('/async-boom', async () => {
        await Promise.resolve();
        throw new TypeError('secret internals');
      });
    },
  });
  return { app, lines };
}

describe('problem+json error handling', () => {
  const { app, lines } = appWithRoutes();

  it('answers validation errors with 400 and the offending fields', async () => {
    const res = await request(app).post('/things').send({ name: '', count: 'three' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', type: expect.stringMatching(/validation$/) });
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.count', 'body.name']);
    expect(res.body.detail).toMatch(/^body\.(name|count): /);
  });

  it('matches routes in one spelling only: case-sensitive, strict about the trailing slash', async () => {
    const { app } = appWithRoutes();
    expect((await request(app).get('/things/a1')).body).toEqual({ id: 'a1' });
    for (const path of ['/Things/a1', '/THINGS/a1', '/things/a1/']) {
      const res = await request(app).get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('answers malformed JSON with 400', async () => {
    const res = await request(app).post('/things').set('content-type', 'application/json').send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, detail: 'request body is not valid JSON' });
  });

  it('answers an oversized body with 413', async () => {
    const res = await request(app)
      .post('/things')
      .send({ name: 'x'.repeat(2048), count: 1 });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await request(app).post('/things').set('content-type', 'text/plain').send('name=x');
    expect(res.status).toBe(415);
    expect(res.body.detail).toContain('text/plain');
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await request(app).get('/nope?x=1');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found', instance: '/nope' });
  });

  it('answers an undecodable path parameter with 400, not 500', async () => {
    const res = await request(app).get('/things/%FF');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect((await request(app).get('/things/%C3%A9')).body).toEqual({ id: 'é' });
  });

  it('answers a saturated database (Prisma P2024/P2028) with 503 and Retry-After, not 500', async () => {
    const res = await request(app).get('/busy');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({ status: 503, detail: 'the service is busy; retry shortly' });
  });

  it('keeps an AppError status and detail', async () => {
    const res = await request(app).get('/conflict');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ status: 409, detail: 'thing already exists' });
  });

  it.each(['/boom', '/async-boom'])('answers unexpected errors (%s) with 500 and no internals', async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      type: expect.stringMatching(/internal$/),
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred',
      instance: path,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|secret internals|stack/);
    // ...but the log keeps the cause for operators.
    expect(lines.some((l) => l.includes('"level":"error"') && /hunter2|secret internals/.test(l))).toBe(true);
  });

  it('valid requests pass', async () => {
    const res = await request(app).post('/things').send({ name: 'a', count: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'a', count: 2 });
  });

  it('serves liveness and readiness', async () => {
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok', service: 'test' });
    expect((await request(app).get('/readyz')).status).toBe(200);
  });
});

describe('what every answer carries', () => {
  const headersOf = async (app: express.Express): Promise<IncomingHttpHeaders> =>
    (await request(app).get('/json')).headers;

  it("sets helmet()'s headers, with helmet's values, in helmet's order", async () => {
    const bare = express();
    bare.disable('x-powered-by');
    bare.use(helmet());
    bare.get('/json', (_req, res) => void res.json({}));
    const platform = createHttpApp({
      service: 't',
      logger: createLogger({ service: 't', level: 'silent' }),
      routes: (a) => a.get('/json', (_req, res) => void res.json({})),
    });
    const helmets = await headersOf(bare);
    const ours = await headersOf(platform);
    const names = Object.keys(helmets).filter(
      (name) => !['content-type', 'content-length', 'etag', 'date', 'connection'].includes(name),
    );
    expect(names.length).toBeGreaterThanOrEqual(10);
    expect(Object.keys(ours).filter((name) => names.includes(name))).toEqual(names);
    for (const name of names) expect([name, ours[name]]).toEqual([name, helmets[name]]);
  });

  it('parses a JSON body, an empty one as {}, and leaves req.body undefined without one', async () => {
    const { app } = appWithRoutes();
    expect((await request(app).post('/body').send({ a: 1 })).body).toEqual({ body: { a: 1 } });
    const empty = await request(app).post('/body').set('content-type', 'application/json').set('content-length', '0');
    expect(empty.body).toEqual({ body: {} });
    expect((await request(app).get('/body')).body).toEqual({ body: 'undefined' });
    expect((await request(app).post('/body')).body).toEqual({ body: 'undefined' });
    expect((await request(app).post('/body').set('content-type', 'text/plain').send('x')).status).toBe(415);
  });
});

describe('readiness', () => {
  it('is 503 naming the failing check', async () => {
    const app = createHttpApp({
      service: 't',
      logger: createLogger({ service: 't', level: 'silent' }),
      readiness: {
        database: async () => {
          throw new Error('connection refused');
        },
        sidecar: async () => undefined,
      },
      routes: () => undefined,
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({
      database: { status: 'failing', error: 'connection refused' },
      sidecar: { status: 'ok' },
    });
  });
});

describe('logging', () => {
  it('redacts secrets and carries the request id', async () => {
    const { app, lines } = appWithRoutes();
    await request(app)
      .post('/things')
      .set('x-request-id', 'req-123')
      .set('authorization', 'Bearer abc.def.ghi')
      .send({ name: 'a', count: 1 });
    const logger = createLogger({ service: 't', destination: { write: (l: string) => lines.push(l) } });
    logger.info({ password: 'p4ssw0rd', user: { refreshToken: 'rt-secret' } }, 'login');
    const text = lines.join('');
    expect(text).toContain('"reqId":"req-123"');
    expect(text).not.toMatch(/abc\.def\.ghi|p4ssw0rd|rt-secret/);
  });

  it('writes one request line with what an operator needs, no headers and no raw path', async () => {
    const { app, lines } = appWithRoutes();
    const res = await request(app)
      .get('/things/secret-path-value?q=1')
      .set('x-request-id', 'req-456')
      .set('authorization', 'Bearer abc.def.ghi')
      .set('cookie', 'quizmesh_session=cookie-secret');
    expect(res.headers['x-request-id']).toBe('req-456');
    await request(app).get('/healthz');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = parsed.filter((line) => line.msg === 'request completed');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: 'info',
      service: 'test',
      reqId: 'req-456',
      method: 'GET',
      route: '/things/{id}',
      status: 200,
    });
    expect(typeof requestLines[0]?.responseTime).toBe('number');
    expect(typeof requestLines[0]?.time).toBe('string');
    expect(lines.join('')).not.toMatch(/abc\.def\.ghi|cookie-secret|secret-path-value|headers/);
  });

  it('writes one line per request: completed when answered, aborted when the client went away', async () => {
    const lines: string[] = [];
    let answerSlow: () => void = () => undefined;
    const app = createHttpApp({
      service: 'test',
      logger: createLogger({ service: 'test', destination: { write: (line: string) => lines.push(line) } }),
      routes: (a) => {
        a.get('/fast', (_req, res) => void res.json({}));
        a.get('/slow', (_req, res) => {
          answerSlow = () => void res.json({});
        });
      },
    });
    const server = await listen(app, 0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      await request(`http://127.0.0.1:${port}`).get('/fast').set('x-request-id', 'fast-1');
      const gone = new Promise<void>((resolve) => {
        const req = httpRequest({ port, host: '127.0.0.1', path: '/slow', headers: { 'x-request-id': 'slow-1' } });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), 100);
      });
      await gone;
      await eventually(() => lines.some((line) => line.includes('"reqId":"slow-1"')));
      answerSlow();
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      server.close();
    }
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.filter((line) => line.reqId === 'fast-1').map((line) => [line.level, line.msg, line.status])).toEqual(
      [['info', 'request completed', 200]],
    );
    expect(parsed.filter((line) => line.reqId === 'slow-1').map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'request aborted'],
    ]);
  });

  it('gives a request without a well-formed id a new one', async () => {
    const { app, lines } = appWithRoutes();
    const res = await request(app).get('/things/1').set('x-request-id', 'bad id with spaces');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.join('')).toContain(`"reqId":"${String(id)}"`);
  });
});

describe('trusted gateway user headers', () => {
  const app = createHttpApp({
    service: 't',
    logger: createLogger({ service: 't', level: 'silent' }),
    routes: (a) => {
      a.use(trustGatewayUser({ appApiToken: 'app-token' }));
      a.get('/admin', (req, res) => void res.json(requireRole(req, 'admin')));
    },
  });
  const asGateway = { 'dapr-caller-app-id': 'gateway', 'dapr-api-token': 'app-token' };

  it('accepts the user forwarded by the gateway', async () => {
    const res = await request(app)
      .get('/admin')
      .set({ ...asGateway, 'x-quizmesh-user-id': 'u1', 'x-quizmesh-user-roles': 'player,admin' });
    expect(res.body).toEqual({ id: 'u1', roles: ['player', 'admin'] });
  });

  it('ignores user headers from another caller or without the app token', async () => {
    for (const headers of [
      { 'dapr-caller-app-id': 'quiz', 'dapr-api-token': 'app-token' },
      { 'dapr-caller-app-id': 'gateway', 'dapr-api-token': 'wrong' },
      {},
    ]) {
      const res = await request(app)
        .get('/admin')
        .set({ ...headers, 'x-quizmesh-user-id': 'u1', 'x-quizmesh-user-roles': 'admin' });
      expect(res.status).toBe(401);
    }
  });

  it('answers 403 when the role is missing', async () => {
    const res = await request(app)
      .get('/admin')
      .set({ ...asGateway, 'x-quizmesh-user-id': 'u1', 'x-quizmesh-user-roles': 'player' });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('requires role admin');
  });
});

describe('an app with an app token answers only its sidecar', () => {
  const app = createHttpApp({
    service: 't',
    logger: createLogger({ service: 't', level: 'silent' }),
    sidecarToken: 'app-token',
    routes: (a) => {
      a.post('/public', (_req, res) => void res.status(201).json({ created: true }));
    },
  });

  it('refuses every caller without the token with 401 problem+json, whatever it claims to be', async () => {
    for (const headers of [
      {},
      { 'dapr-caller-app-id': 'gateway', 'x-quizmesh-user-id': 'u1', 'x-quizmesh-user-roles': 'admin' },
      { 'dapr-caller-app-id': 'gateway', 'dapr-api-token': 'wrong' },
    ]) {
      const res = await request(app).post('/public').set(headers).send({});
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('serves its sidecar, and the probes without a token', async () => {
    const res = await request(app).post('/public').set({ 'dapr-api-token': 'app-token' }).send({});
    expect(res.status).toBe(201);
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/readyz')).status).toBe(200);
  });
});
