/**
 * The shared test kit (@quizmesh/platform/testing): waiting, problem+json checks and hostile
 * bodies, as every service's tests use them. Needs no backing service.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  badJsonBodyCases,
  badParamCases,
  countRows,
  eventually,
  expectProblem,
  FORGED_CURSORS,
  gatewayHeaders,
  startHarness,
  missing,
  parseQueueList,
  SseParser,
  StillMissingError,
  WakeSignal,
} from '@quizmesh/platform/testing';

describe('eventually', () => {
  it('waits until a condition holds', async () => {
    let checks = 0;
    await eventually(() => ++checks === 3, { intervalMs: 1 });
    expect(checks).toBe(3);
  });

  it('fails at once when the condition throws (only false means "not yet")', async () => {
    let checks = 0;
    await expect(
      eventually(() => {
        checks += 1;
        throw new Error('broken probe');
      }),
    ).rejects.toThrow('broken probe');
    expect(checks).toBe(1);
  });

  it('resolves with the value of a named probe, retrying while it says what is missing', async () => {
    let checks = 0;
    const value = await eventually(
      'the third check',
      async () => {
        checks += 1;
        if (checks < 3) throw missing(`only ${checks} checks`);
        return 'found';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('found');
  });

  it('names what was awaited and what the last probe missed when the deadline passes', async () => {
    const failure = eventually('the answer', () => Promise.reject(missing('no answer yet')), {
      timeoutMs: 20,
      intervalMs: 5,
    });
    await expect(failure).rejects.toBeInstanceOf(StillMissingError);
    await expect(failure).rejects.toThrow('the answer: still not the case after 20 ms; last check: no answer yet');
  });

  it('gives up on a condition only when given a deadline', async () => {
    await expect(eventually(() => false, { timeoutMs: 10, intervalMs: 2 })).rejects.toBeInstanceOf(StillMissingError);
  });

  it('re-checks as soon as the signal it waits on is notified, not at the next interval', async () => {
    const signal = new WakeSignal();
    let ready = false;
    let checks = 0;
    const waiting = eventually(
      () => {
        checks += 1;
        return ready;
      },
      // An interval far beyond jest's timeout: only the signal can end this wait in time.
      { intervalMs: 3_600_000, wakeOn: signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    ready = true;
    signal.notify();
    await waiting;
    expect(checks).toBe(2);
  });
});

describe('expectProblem', () => {
  const problem = (status: number, extra: Record<string, unknown> = {}) => ({
    status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: { type: 'https://quizmesh.dev/problems/validation', status, ...extra },
  });

  it('accepts a platform problem of the status, naming the field', () => {
    expect(() => expectProblem(problem(400, { errors: [{ field: 'body.email' }] }), 400, 'body.email')).not.toThrow();
  });

  it.each([
    ['another status', problem(404), 400, undefined],
    ['plain JSON', { ...problem(400), headers: { 'content-type': 'application/json' } }, 400, undefined],
    ['a foreign problem type', { ...problem(400), body: { type: 'about:blank', status: 400 } }, 400, undefined],
    ['a problem not naming the field', problem(400), 400, 'body.email'],
  ])('refuses %s', (_name, answer, status, field) => {
    expect(() => expectProblem(answer, status, field)).toThrow();
  });
});

describe('badJsonBodyCases', () => {
  const valid = { email: 'a@example.com', age: 30 };

  it('covers encodings, shapes, limits, the unknown field, each missing field and each wrong type', () => {
    const cases = badJsonBodyCases(valid, { wrongTypes: [42, 'text', null], unknownField: { isAdmin: true } });
    expect(cases.map((c) => [c.name, c.status, c.field])).toEqual([
      ['malformed JSON', 400, undefined],
      ['a JSON array', 400, 'body'],
      ['a JSON string', 400, 'body'],
      ['JSON null', 400, 'body'],
      ['form encoding', 415, undefined],
      ['text/plain', 415, undefined],
      ['an oversized body', 413, undefined],
      ['an unknown field', 400, 'isAdmin'],
      ['missing email', 400, 'body.email'],
      ['email = 42', 400, 'body.email'],
      ['email = "text"', 400, 'body.email'],
      ['email = null', 400, 'body.email'],
      ['missing age', 400, 'body.age'],
      ['age = 42', 400, 'body.age'],
      ['age = "text"', 400, 'body.age'],
      ['age = null', 400, 'body.age'],
    ]);
    expect(() => JSON.parse(cases[0]?.raw?.text ?? '')).toThrow(SyntaxError);
    expect(cases[4]?.raw?.text).toBe('email=a%40example.com');
  });

  it('skips wrong values of the valid kind, and missing fields of a partial update, when asked', () => {
    const names = badJsonBodyCases(valid, {
      wrongTypes: [42, 'text'],
      skipSameKind: true,
      unknownField: { authorId: 'x' },
      required: false,
    }).map((c) => c.name);
    expect(names).toContain('email = 42');
    expect(names).toContain('age = "text"');
    expect(names).not.toContain('email = "text"');
    expect(names).not.toContain('age = 42');
    expect(names.filter((n) => n.startsWith('missing'))).toEqual([]);
  });
});

describe('parseQueueList', () => {
  it('reads rabbitmqctl list_queues rows (name, ready, unacknowledged, consumers) by queue name', () => {
    const stdout = 'quiz-test.happened\t3\t1\t0\ndlq-quiz-test.happened\t0\t0\t1\n\n';
    expect(parseQueueList(stdout)).toEqual(
      new Map([
        ['quiz-test.happened', { ready: 3, unacknowledged: 1, consumers: 0 }],
        ['dlq-quiz-test.happened', { ready: 0, unacknowledged: 0, consumers: 1 }],
      ]),
    );
  });

  it('refuses a row it cannot read rather than reporting zero', () => {
    expect(() => parseQueueList('quiz-test.happened\t3\n')).toThrow(/unexpected rabbitmqctl list_queues line/);
  });
});

describe('SseParser', () => {
  it('parses frames split anywhere across chunks, with comments, retry, ids and multi-line data', () => {
    const parser = new SseParser();
    const wire = ': hello\nretry: 3000\n\nevent: ready\ndata: {}\n\r\nid: 7\nevent: score\ndata: a\ndata:b\n\n';
    const frames = [...wire].flatMap((char) => parser.feed(char));
    expect(frames).toEqual([
      { event: 'message', id: undefined, data: undefined, comments: ['hello'], retry: 3000 },
      { event: 'ready', id: undefined, data: '{}', comments: [], retry: undefined },
      { event: 'score', id: '7', data: 'a\nb', comments: [], retry: undefined },
    ]);
  });
});

describe('badParamCases', () => {
  it('puts each value into each route, in that order, each answered 400 naming the field', () => {
    const cases = badParamCases<'author'>(['x', 'y'], 'params.id', [
      { name: 'GET quiz', method: 'get', path: '/q/:value' },
      { name: 'PATCH quiz', method: 'patch', path: '/q/:value/edit', as: 'author', body: { title: 't' } },
    ]);
    expect(cases).toEqual([
      { name: 'GET quiz x', method: 'get', path: '/q/x', status: 400, field: 'params.id' },
      {
        name: 'PATCH quiz x',
        method: 'patch',
        path: '/q/x/edit',
        as: 'author',
        body: { title: 't' },
        status: 400,
        field: 'params.id',
      },
      { name: 'GET quiz y', method: 'get', path: '/q/y', status: 400, field: 'params.id' },
      {
        name: 'PATCH quiz y',
        method: 'patch',
        path: '/q/y/edit',
        as: 'author',
        body: { title: 't' },
        status: 400,
        field: 'params.id',
      },
    ]);
  });

  it('forges cursors of the cursor format (timestamp|uuid) that PostgreSQL cannot take', () => {
    const decoded = FORGED_CURSORS.map((cursor) => Buffer.from(cursor, 'base64url').toString('utf8'));
    expect(decoded).toEqual([
      '-271821-04-20T00:00:00.000Z|00000000-0000-4000-8000-000000000000',
      '0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000',
      `2026-11-18T08:00:00.000Z|${'-'.repeat(36)}`,
    ]);
  });
});

describe('countRows', () => {
  it('counts every table it is given, by its name', async () => {
    const table = (n: number) => ({ count: () => Promise.resolve(n) });
    await expect(countRows({ users: table(2), outbox: table(0) })).resolves.toEqual({ users: 2, outbox: 0 });
  });
});

describe('gatewayHeaders', () => {
  it('forwards the user as the gateway does', () => {
    expect(gatewayHeaders('u1', ['player', 'admin'])).toEqual({
      'dapr-caller-app-id': 'gateway',
      'x-quizmesh-user-id': 'u1',
      'x-quizmesh-user-roles': 'player,admin',
    });
  });
});

describe('startHarness', () => {
  it('closes what a failed start opened, last first, and removes its folder', async () => {
    const closed: string[] = [];
    let folder = '';
    await expect(
      startHarness('kit', async (harness) => {
        folder = harness.dir;
        harness.cleanups.push(() => void closed.push('first'));
        harness.cleanups.push(() => void closed.push('second'));
        await Promise.resolve();
        throw new Error('the service did not start');
      }),
    ).rejects.toThrow('the service did not start');
    expect(closed).toEqual(['second', 'first']);
    expect(existsSync(folder)).toBe(false);
  });

  it('writes the sidecar resources as Dapr reads them', async () => {
    const harness = await startHarness('kit', async (context) => {
      const folder = context.resources();
      folder.inMemoryPubsub();
      folder.stateStore('qm_kit');
      folder.subscriptions('subs.yaml', 'quiz', [
        { name: 'a', topic: 'quiz.completed', route: '/events/a', deadLetterTopic: 'quiz.completed.deadletter' },
        { name: 'b', topic: 'attempt.failed', route: '/events/b' },
      ]);
      await Promise.resolve();
      return { folder };
    });
    try {
      const read = (file: string) => parseAllDocuments(readFileSync(join(harness.folder.path, file), 'utf8'));
      expect(read('pubsub.yaml').map((d) => d.toJS())).toEqual([
        {
          apiVersion: 'dapr.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'pubsub' },
          spec: { type: 'pubsub.in-memory', version: 'v1', metadata: [] },
        },
      ]);
      expect(read('statestore.yaml')[0]?.toJS()).toMatchObject({
        spec: { type: 'state.redis', metadata: expect.arrayContaining([{ name: 'keyPrefix', value: 'qm_kit' }]) },
      });
      expect(read('subs.yaml').map((d) => d.toJS())).toEqual([
        {
          apiVersion: 'dapr.io/v2alpha1',
          kind: 'Subscription',
          metadata: { name: 'a' },
          spec: {
            pubsubname: 'pubsub',
            topic: 'quiz.completed',
            routes: { default: '/events/a' },
            deadLetterTopic: 'quiz.completed.deadletter',
          },
          scopes: ['quiz'],
        },
        {
          apiVersion: 'dapr.io/v2alpha1',
          kind: 'Subscription',
          metadata: { name: 'b' },
          spec: { pubsubname: 'pubsub', topic: 'attempt.failed', routes: { default: '/events/b' } },
          scopes: ['quiz'],
        },
      ]);
    } finally {
      await harness.stop();
    }
  });
});
