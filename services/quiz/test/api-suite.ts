/**
 * quiz's API end to end in-process (see harness.ts), shared by the PostgreSQL and the
 * embedded-PGlite test files so both backends pass the very same behaviour.
 */
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import request from 'supertest';
import {
  attemptFailed,
  leaderboardUpdated,
  leaderboardUpdatedV1,
  quizCompleted,
  quizPublished,
  scoreCalculated,
} from '@quizmesh/contracts/events';
import {
  attemptAcceptedSchema,
  attemptHistorySchema,
  attemptReviewSchema,
  attemptSchema,
  authorQuizSchema,
  playerQuizSchema,
  quizListSchema,
  quizVersionListSchema,
  startAttemptResponseSchema,
  type AuthorQuiz,
} from '@quizmesh/contracts/quiz-api';
import { deadLetterListSchema } from '@quizmesh/platform/deadletters';
import { eventually, expectProblem, type TestBackend } from '@quizmesh/platform/testing';
import { cacheKey, QuizCache } from '../src/cache';
import { COMPENSATION_REASON } from '../src/consumers';
import { mountQuizRoutes } from '../src/routes';
import { as, handledDeliveries, newUser, quizBody, startQuiz, type QuizUnderTest } from './harness';

/** score.calculated for an attempt with all 3 questions right (6 of 6 points), scored now. */
const fullMarks = (attempt: { attemptId: string; quizId: string; userId: string }, finishedAt: string) => ({
  schemaVersion: 1,
  ...attempt,
  score: 6,
  maxScore: 6,
  correctCount: 3,
  questionCount: 3,
  finishedAt,
  calculatedAt: new Date().toISOString(),
});

export function quizApiSuite(backend: TestBackend): void {
  let quiz: QuizUnderTest;
  const author = newUser('player', 'author');
  const otherAuthor = newUser('author');
  const admin = newUser('player', 'admin');

  beforeAll(async () => {
    quiz = await startQuiz({ backend });
  });
  afterAll(async () => {
    await quiz?.stop();
  });

  const api = () => request(quiz.url);

  async function createDraft(owner = author, body: Record<string, unknown> = quizBody()): Promise<AuthorQuiz> {
    const res = await api().post('/api/v1/quizzes').set(as(owner)).send(body);
    expect(res.status).toBe(201);
    return authorQuizSchema.parse(res.body);
  }

  async function publish(id: string, by = author): Promise<AuthorQuiz> {
    const res = await api().post(`/api/v1/quizzes/${id}/publish`).set(as(by));
    expect(res.status).toBe(200);
    return authorQuizSchema.parse(res.body);
  }

  async function createPublished(owner = author, body: Record<string, unknown> = quizBody()): Promise<AuthorQuiz> {
    return publish((await createDraft(owner, body)).id, owner);
  }

  const publishedEvent = async (topic: string, match: (data: Record<string, unknown>) => boolean) => {
    await eventually(() => quiz.published.some((p) => p.topic === topic && match(p.event.data)));
    const found = quiz.published.find((p) => p.topic === topic && match(p.event.data));
    if (!found) throw new Error(`no ${topic} event matched`);
    return found.event;
  };

  const noAnswerKeys = (body: unknown) => {
    const text = JSON.stringify(body);
    expect(text).not.toContain('"correct"');
    expect(text).not.toContain('explanation');
    expect(text).not.toContain('Because');
  };

  describe('lifecycle and immutability', () => {
    it('creates a draft that only its author sees, then publishes it with quiz.published carrying the answer keys', async () => {
      const draft = await createDraft();
      expect(draft).toMatchObject({
        version: 1,
        status: 'draft',
        versionStatus: 'draft',
        authorId: author.id,
        questionCount: 2,
        maxScore: 3,
        publishedAt: null,
      });
      expect(draft.questions[0]?.options.filter((o) => o.correct)).toHaveLength(1);
      expectProblem(await api().get(`/api/v1/quizzes/${draft.id}`), 404);

      const published = await publish(draft.id);
      expect(published).toMatchObject({ id: draft.id, version: 1, status: 'published', versionStatus: 'published' });
      expect(published.questions).toEqual(draft.questions);

      const event = await publishedEvent(quizPublished.topic, (d) => d.quizId === draft.id);
      expect(event).toMatchObject({ type: quizPublished.type, source: 'quiz' });
      const data = quizPublished.schema.parse(event.data);
      expect(data).toMatchObject({
        quizId: draft.id,
        version: 1,
        authorId: author.id,
        questionCount: 2,
        maxScore: 3,
        difficulty: 'easy',
        timeLimitSeconds: 300,
      });
      expect(data.supersedesVersion).toBeUndefined();
      expect(data.questions).toEqual(
        draft.questions.map((q) => ({
          questionId: q.id,
          type: 'single',
          points: q.points,
          optionIds: q.options.map((o) => o.id),
          correctOptionIds: q.options.filter((o) => o.correct).map((o) => o.id),
        })),
      );
      // Marked sent by the relay's next claim (decision 1020), shortly after the publish.
      const row = () => quiz.prisma.outboxEvent.findUniqueOrThrow({ where: { id: event.id } });
      await eventually(async () => (await row()).sentAt !== null);
    });

    it('edits a draft in place, keeping question ids that round-trip', async () => {
      const draft = await createDraft();
      const [first] = draft.questions;
      const res = await api()
        .patch(`/api/v1/quizzes/${draft.id}`)
        .set(as(author))
        .send({
          title: '  Planets, revised  ',
          questions: [{ ...first, explanation: first?.explanation ?? undefined }],
        });
      expect(res.status).toBe(200);
      const edited = authorQuizSchema.parse(res.body);
      expect(edited).toMatchObject({ version: 1, title: 'Planets, revised', questionCount: 1, maxScore: 1 });
      expect(edited.questions[0]?.id).toBe(first?.id);
    });

    it('never changes a published version: an edit starts the next version, whose publication supersedes it', async () => {
      const v1 = await createPublished();
      const edit = await api()
        .patch(`/api/v1/quizzes/${v1.id}`)
        .set(as(author))
        .send({ title: 'Planets II', difficulty: 'hard' });
      expect(edit.status).toBe(201);
      expect(edit.headers.location).toBe(`/api/v1/quizzes/${v1.id}/versions/2`);
      const v2draft = authorQuizSchema.parse(edit.body);
      expect(v2draft).toMatchObject({
        version: 2,
        versionStatus: 'draft',
        status: 'published',
        title: 'Planets II',
        difficulty: 'hard',
      });
      expect(v2draft.questions.map((q) => q.id)).toEqual(v1.questions.map((q) => q.id));

      // A second edit goes to the same draft; players still get version 1.
      expect(
        (
          await api()
            .put(`/api/v1/quizzes/${v1.id}`)
            .set(as(author))
            .send(quizBody({ title: 'Planets III' }, 3))
        ).status,
      ).toBe(200);
      const playing = playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${v1.id}`)).body);
      expect(playing).toMatchObject({ version: 1, title: v1.title });

      const v2 = await publish(v1.id);
      expect(v2).toMatchObject({ version: 2, versionStatus: 'published', title: 'Planets III', questionCount: 3 });
      const event = quizPublished.schema.parse(
        (await publishedEvent(quizPublished.topic, (d) => d.quizId === v1.id && d.version === 2)).data,
      );
      expect(event.supersedesVersion).toBe(1);
      expect(playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${v1.id}`)).body)).toMatchObject({
        version: 2,
        title: 'Planets III',
      });

      const versions = quizVersionListSchema.parse(
        (await api().get(`/api/v1/quizzes/${v1.id}/versions`).set(as(author))).body,
      );
      expect(versions.items.map((v) => [v.version, v.status])).toEqual([
        [1, 'superseded'],
        [2, 'published'],
      ]);
      const old = authorQuizSchema.parse((await api().get(`/api/v1/quizzes/${v1.id}/versions/1`).set(as(author))).body);
      expect(old).toMatchObject({ title: v1.title, questions: v1.questions, versionStatus: 'superseded' });
    });

    it('refuses (412) an edit or publication of content that changed since the caller read it (If-Match)', async () => {
      const created = await api().post('/api/v1/quizzes').set(as(author)).send(quizBody());
      const { id } = authorQuizSchema.parse(created.body);
      const firstTag = String(created.headers.etag);
      expect(firstTag).toMatch(/^"1\.\d+"$/);

      const mine = await api()
        .patch(`/api/v1/quizzes/${id}`)
        .set(as(author))
        .set('if-match', firstTag)
        .send({ title: 'Mine' });
      expect(mine.status).toBe(200);
      const secondTag = String(mine.headers.etag);
      expect(secondTag).not.toBe(firstTag);
      // Another tab still holds the first ETag: its edit and its publication are refused, nothing changes.
      expectProblem(
        await api().patch(`/api/v1/quizzes/${id}`).set(as(author)).set('if-match', firstTag).send({ title: 'Theirs' }),
        412,
      );
      expectProblem(await api().post(`/api/v1/quizzes/${id}/publish`).set(as(author)).set('if-match', firstTag), 412);
      expect(await quiz.prisma.quizVersion.findFirstOrThrow({ where: { quizId: id } })).toMatchObject({
        title: 'Mine',
        status: 'draft',
      });

      const published = await api().post(`/api/v1/quizzes/${id}/publish`).set(as(author)).set('if-match', secondTag);
      expect(published.status).toBe(200);
      // The next version starts from the published content the caller read.
      expectProblem(
        await api().patch(`/api/v1/quizzes/${id}`).set(as(author)).set('if-match', secondTag).send({ title: 'v2' }),
        412,
      );
      const next = await api()
        .patch(`/api/v1/quizzes/${id}`)
        .set(as(author))
        .set('if-match', String(published.headers.etag))
        .send({ title: 'v2' });
      expect(next.status).toBe(201);
      expect(next.headers.etag).toMatch(/^"2\.\d+"$/);
    });

    it('creates exactly one new version when edits of a published quiz race', async () => {
      const published = await createPublished();
      const results = await Promise.all(
        ['A', 'B', 'C', 'D'].map((t) =>
          api()
            .patch(`/api/v1/quizzes/${published.id}`)
            .set(as(author))
            .send({ title: `Race ${t}` }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
      const versions = await quiz.prisma.quizVersion.findMany({
        where: { quizId: published.id },
        orderBy: { version: 'asc' },
      });
      expect(versions.map((v) => [v.version, v.status])).toEqual([
        [1, 'published'],
        [2, 'draft'],
      ]);
    });

    it('refuses to publish without a draft (409) or without questions (422 naming questions)', async () => {
      const published = await createPublished();
      expectProblem(await api().post(`/api/v1/quizzes/${published.id}/publish`).set(as(author)), 409);
      const empty = await createDraft(author, quizBody({ questions: [] }));
      expectProblem(await api().post(`/api/v1/quizzes/${empty.id}/publish`).set(as(author)), 422, 'questions');
      expect((await quiz.prisma.quiz.findUniqueOrThrow({ where: { id: empty.id } })).status).toBe('draft');
    });

    it('archives: still readable, no new attempts, no edits, archiving again is harmless', async () => {
      const published = await createPublished();
      const res = await api().post(`/api/v1/quizzes/${published.id}/archive`).set(as(author));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: published.id, status: 'archived', versionStatus: 'archived' });
      expect(playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${published.id}`)).body).status).toBe('archived');
      expectProblem(
        await api()
          .post(`/api/v1/quizzes/${published.id}/attempts`)
          .set(as(newUser('player'))),
        409,
      );
      expectProblem(await api().patch(`/api/v1/quizzes/${published.id}`).set(as(author)).send({ title: 'Again' }), 409);
      expect((await api().post(`/api/v1/quizzes/${published.id}/archive`).set(as(author))).status).toBe(200);
    });
  });

  describe('authorization', () => {
    it('lets neither players nor anonymous callers create or change quizzes', async () => {
      const player = newUser('player');
      expectProblem(await api().post('/api/v1/quizzes').set(as(player)).send(quizBody()), 403);
      expectProblem(await api().post('/api/quizzes').set(as(player)).send(quizBody()), 403);
      expectProblem(await api().post('/api/v1/quizzes').send(quizBody()), 401);
      const draft = await createDraft();
      expectProblem(await api().patch(`/api/v1/quizzes/${draft.id}`).set(as(player)).send({ title: 'Mine' }), 403);
      expectProblem(await api().post(`/api/v1/quizzes/${draft.id}/publish`).set(as(player)), 403);
      expectProblem(await api().post(`/api/v1/quizzes/${draft.id}/archive`).set(as(player)), 403);
    });

    it("keeps authors out of each other's quizzes; admins may manage any", async () => {
      const draft = await createDraft(author);
      expectProblem(
        await api().patch(`/api/v1/quizzes/${draft.id}`).set(as(otherAuthor)).send({ title: 'Stolen' }),
        403,
      );
      expectProblem(await api().put(`/api/v1/quizzes/${draft.id}`).set(as(otherAuthor)).send(quizBody()), 403);
      expectProblem(await api().post(`/api/v1/quizzes/${draft.id}/publish`).set(as(otherAuthor)), 403);
      expectProblem(await api().get(`/api/v1/quizzes/${draft.id}/versions`).set(as(otherAuthor)), 403);
      expectProblem(await api().get(`/api/v1/quizzes/${draft.id}/versions/1`).set(as(otherAuthor)), 403);
      expect((await quiz.prisma.quizVersion.findFirstOrThrow({ where: { quizId: draft.id } })).title).toBe(draft.title);

      expect(
        (await api().patch(`/api/v1/quizzes/${draft.id}`).set(as(admin)).send({ title: 'Fixed by an admin' })).status,
      ).toBe(200);
      expect((await api().post(`/api/v1/quizzes/${draft.id}/publish`).set(as(admin))).status).toBe(200);
    });

    it('refuses a forwarded user id that is not a UUID (401) instead of failing on it', async () => {
      expectProblem(
        await api()
          .post('/api/v1/quizzes')
          .set(as({ id: "1' OR '1'='1", roles: ['author'] }))
          .send(quizBody()),
        401,
      );
    });

    it('ignores user headers that did not come from the gateway', async () => {
      const headers = { ...as(author), 'dapr-caller-app-id': 'evaluation' };
      expectProblem(await api().post('/api/v1/quizzes').set(headers).send(quizBody()), 401);
    });
  });

  describe('player views', () => {
    it('never carry answer keys or explanations (quiz, seed path, list, attempt start)', async () => {
      const published = await createPublished();
      const one = await api().get(`/api/v1/quizzes/${published.id}`);
      expect(one.status).toBe(200);
      const view = playerQuizSchema.parse(one.body); // strict: an extra key would fail
      expect(view.questions.map((q) => q.id)).toEqual(published.questions.map((q) => q.id));
      noAnswerKeys(one.body);
      const seed = await api().get(`/api/quizzes/${published.id}`);
      expect(seed.body).toEqual(one.body);
      noAnswerKeys((await api().get('/api/v1/quizzes')).body);
      noAnswerKeys((await api().get('/api/quizzes')).body);
      const start = await api()
        .post(`/api/v1/quizzes/${published.id}/attempts`)
        .set(as(newUser('player')));
      startAttemptResponseSchema.parse(start.body);
      noAnswerKeys(start.body);
    });
  });

  describe('list and search', () => {
    const tag = `t${Date.now().toString(36)}`;
    let ids: string[] = [];

    beforeAll(async () => {
      const bodies = (
        [
          ['Planets and moons', 'Orbits around the sun', 'space', 'easy'],
          ['Rivers of Europe', 'From the Danube to the Rhine', 'geography', 'medium'],
          ['Mountains', 'Peaks on every continent', 'geography', 'hard'],
          ['Ancient Rome', 'Emperors and orbiting legends', 'history', 'medium'],
        ] as const
      ).map(([title, description, topic, difficulty]) =>
        quizBody({ title, description, tags: [tag, topic], difficulty }),
      );
      ids = [];
      for (const body of bodies) ids.push((await createPublished(author, body)).id);
      await createDraft(author, quizBody({ title: 'Unpublished planets', tags: [tag] }));
    });

    it('pages newest first with a cursor, without repeats or gaps', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await api()
          .get('/api/v1/quizzes')
          .query({ tag, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        const page = quizListSchema.parse(res.body);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('filters by tag and difficulty, and searches title and description with stemming', async () => {
      const list = async (query: Record<string, string>) =>
        quizListSchema
          .parse(
            (
              await api()
                .get('/api/v1/quizzes')
                .query({ tag, ...query })
            ).body,
          )
          .items.map((i) => i.title);
      expect(await list({ difficulty: 'medium' })).toEqual(['Ancient Rome', 'Rivers of Europe']);
      expect(await list({ tag: 'geography' })).toEqual(expect.arrayContaining(['Mountains', 'Rivers of Europe']));
      expect(await list({ q: 'planet' })).toEqual(['Planets and moons']);
      expect(await list({ q: 'orbit' })).toEqual(['Ancient Rome', 'Planets and moons']);
      expect(await list({ q: 'orbit -rome' })).toEqual(['Planets and moons']);
      // SQL-looking input is only words to web-search syntax: "danube" OR "1=1".
      expect(await list({ q: "danube' OR 1=1; --" })).toEqual(['Rivers of Europe']);
      expect(await list({ q: 'the' })).toEqual([]); // only a stop word
    });

    it('lists drafts only for authors (their own) and admins', async () => {
      expectProblem(await api().get('/api/v1/quizzes').query({ status: 'draft' }), 401);
      expectProblem(
        await api()
          .get('/api/v1/quizzes')
          .query({ status: 'draft' })
          .set(as(newUser('player'))),
        403,
      );
      const mine = quizListSchema.parse(
        (await api().get('/api/v1/quizzes').query({ status: 'draft', tag }).set(as(author))).body,
      );
      expect(mine.items.map((i) => i.title)).toEqual(['Unpublished planets']);
      const theirs = quizListSchema.parse(
        (await api().get('/api/v1/quizzes').query({ status: 'draft', tag }).set(as(otherAuthor))).body,
      );
      expect(theirs.items).toEqual([]);
      const all = quizListSchema.parse(
        (await api().get('/api/v1/quizzes').query({ status: 'draft', tag }).set(as(admin))).body,
      );
      expect(all.items.map((i) => i.title)).toEqual(['Unpublished planets']);
    });
  });

  describe('cache of published quizzes', () => {
    it('serves the player view from the state store until a publication invalidates it', async () => {
      const published = await createPublished();
      expect(await quiz.runtime.dapr.getState('statestore', cacheKey(published.id, 'current'))).toBeUndefined();
      const first = (await api().get(`/api/v1/quizzes/${published.id}`)).body;
      expect(await quiz.runtime.dapr.getState('statestore', cacheKey(published.id, 'current'))).toEqual(first);
      expect(await quiz.runtime.dapr.getState('statestore', cacheKey(published.id, 1))).toEqual(first);
      // Saved with the TTL metadata (QUIZ_CACHE_TTL_SECONDS, 300 s): the sidecar reports when the entry expires.
      const raw = await fetch(
        `http://127.0.0.1:${quiz.sidecar.httpPort}/v1.0/state/statestore/${cacheKey(published.id, 'current')}`,
      );
      const expiresAt = Date.parse(raw.headers.get('metadata.ttlexpiretime') ?? '');
      expect(expiresAt - Date.now()).toBeGreaterThan(200_000);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(300_000);

      // Changed behind quiz's back: the cached view is what readers get.
      await quiz.prisma.quizVersion.updateMany({
        where: { quizId: published.id, version: 1 },
        data: { title: 'Changed in the database' },
      });
      expect((await api().get(`/api/v1/quizzes/${published.id}`)).body.title).toBe(published.title);

      await api().patch(`/api/v1/quizzes/${published.id}`).set(as(author)).send({ title: 'Version two' });
      await publish(published.id);
      expect(await quiz.runtime.dapr.getState('statestore', cacheKey(published.id, 'current'))).toBeUndefined();
      expect((await api().get(`/api/v1/quizzes/${published.id}`)).body).toMatchObject({
        version: 2,
        title: 'Version two',
      });
    });

    it('answers from its own copy with the headers and bytes of the answer that filled it', async () => {
      const published = await createPublished();
      const url = `${quiz.url}/api/v1/quizzes/${published.id}`;
      const filled = await rawGet(url); // from the database, then kept
      const kept = await rawGet(url); // this process's copy
      // The whole header block, in order (Date and the connection's own headers aside).
      const expected = [
        'x-request-id',
        'content-security-policy',
        'cross-origin-opener-policy',
        'cross-origin-resource-policy',
        'origin-agent-cluster',
        'referrer-policy',
        'strict-transport-security',
        'x-content-type-options',
        'x-dns-prefetch-control',
        'x-download-options',
        'x-frame-options',
        'x-permitted-cross-domain-policies',
        'x-xss-protection',
        'etag',
        'cache-control',
        'x-quizmesh-shared-cache',
        'content-type',
        'content-length',
      ];
      for (const answer of [filled, kept]) {
        expect(answer.status).toBe(200);
        expect(answer.headers.map(([name]) => name)).toEqual(expected);
      }
      const value = (answer: RawAnswer, name: string) => answer.headers.find(([n]) => n === name)?.[1];
      for (const [name] of kept.headers.filter(([n]) => !['x-request-id', 'x-quizmesh-shared-cache'].includes(n)))
        expect([name, value(kept, name)]).toEqual([name, value(filled, name)]);
      expect(value(kept, 'cache-control')).toBe('no-cache');
      expect(value(kept, 'content-type')).toBe('application/json; charset=utf-8');
      expect(value(kept, 'x-quizmesh-shared-cache')).toMatch(/^max-age=\d+$/);
      expect(kept.body.equals(filled.body)).toBe(true);
      expect(playerQuizSchema.parse(JSON.parse(kept.body.toString()))).toMatchObject({ id: published.id });

      const notModified = await rawGet(url, { 'if-none-match': value(kept, 'etag') ?? '' });
      expect(notModified.status).toBe(304);
      expect(notModified.body.length).toBe(0);
      expect(notModified.headers.map(([name]) => name)).toEqual(
        expected.filter((name) => !['content-type', 'content-length'].includes(name)),
      );
    });

    it('falls back to the database, and logs why, when the state store fails', async () => {
      const published = await createPublished();
      const broken = new QuizCache(quiz.runtime.dapr, 'no-such-store', 60, quiz.runtime.logger);
      const app = quiz.runtime.createApp({ routes: (a) => mountQuizRoutes(a, { ...quiz.deps, cache: broken }) });
      const res = await request(app).get(`/api/v1/quizzes/${published.id}`);
      expect(res.status).toBe(200);
      expect(playerQuizSchema.parse(res.body)).toMatchObject({ id: published.id, title: published.title });
      const archived = await request(app).post(`/api/v1/quizzes/${published.id}/archive`).set(as(author));
      expect(archived.status).toBe(200);
      const warnings = quiz.logLines.filter((l) => l.includes('"level":"warn"') && l.includes(published.id));
      expect(warnings.some((l) => l.includes('quiz cache read failed'))).toBe(true);
      expect(warnings.some((l) => l.includes('quiz cache write failed'))).toBe(true);
      expect(warnings.some((l) => l.includes('quiz cache invalidation failed'))).toBe(true);
    });

    it('shows the latest per-quiz leaderboard from leaderboard.updated, invalidating the cached view; older snapshots are ignored', async () => {
      const published = await createPublished();
      await api().get(`/api/v1/quizzes/${published.id}`); // cached without a leaderboard
      const leader = { rank: 1, userId: newUser().id, displayName: 'Ada', score: 3 };
      const top = [{ ...leader, finishedAt: '2026-11-21T09:59:00.000Z' }];
      // One scoring's change (version 2): the quiz board among the other boards it raised.
      const change = (updatedAt: string, entries = top) => ({
        schemaVersion: 2,
        boards: [
          { board: 'global', top: [] },
          { board: 'quiz', quizId: published.id, top: entries },
          { board: 'weekly', period: '2026-W47', top: [] },
        ],
        updatedAt,
      });
      await quiz.deliver(leaderboardUpdated, `${published.id}-lb1`, change('2026-11-21T10:00:00.000Z'));
      await eventually(async () => (await api().get(`/api/v1/quizzes/${published.id}`)).body.leaderboard !== null);
      expect(playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${published.id}`)).body).leaderboard).toEqual({
        top: [leader],
        updatedAt: '2026-11-21T10:00:00.000Z',
      });
      const handledBefore = handledDeliveries(quiz, leaderboardUpdated.topic);
      await quiz.deliver(leaderboardUpdated, `${published.id}-lb0`, change('2026-11-21T09:00:00.000Z', []));
      // A change without the quiz's board changes nothing.
      await quiz.deliver(leaderboardUpdated, `${published.id}-global`, {
        schemaVersion: 2,
        boards: [{ board: 'global', top: [] }],
        updatedAt: '2026-11-21T11:00:00.000Z',
      });
      await eventually(() => handledDeliveries(quiz, leaderboardUpdated.topic) >= handledBefore + 2);
      const view = playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${published.id}`)).body);
      expect(view.leaderboard).toEqual({ top: [leader], updatedAt: '2026-11-21T10:00:00.000Z' });
    });

    it('still keeps the quiz board of a version-1 leaderboard.updated (an evaluation of the previous release)', async () => {
      const published = await createPublished();
      await api().get(`/api/v1/quizzes/${published.id}`); // cached without a leaderboard
      const leader = { rank: 1, userId: newUser().id, displayName: 'Grace', score: 2 };
      await quiz.deliver(leaderboardUpdatedV1, `${published.id}-v1`, {
        schemaVersion: 1,
        board: 'quiz',
        quizId: published.id,
        top: [leader],
        updatedAt: '2026-11-21T10:00:00.000Z',
      });
      await eventually(async () => (await api().get(`/api/v1/quizzes/${published.id}`)).body.leaderboard !== null);
      const view = playerQuizSchema.parse((await api().get(`/api/v1/quizzes/${published.id}`)).body);
      expect(view.leaderboard).toEqual({ top: [leader], updatedAt: '2026-11-21T10:00:00.000Z' });
    });

    it('answers a version-2 leaderboard.updated SUCCESS with or without a quiz board, and DROPs (dead letter) one that names a board twice or none', async () => {
      const published = await createPublished();
      const quizBoard = { board: 'quiz', quizId: published.id, top: [{ rank: 1, userId: newUser().id, score: 1 }] };
      const globalBoard = { board: 'global', top: [] };
      const updatedAt = '2026-11-21T10:00:00.000Z';
      const cases: Array<[string, unknown[], string]> = [
        ['no quiz board', [globalBoard], 'SUCCESS'],
        ['the same board twice', [quizBoard, globalBoard, quizBoard], 'DROP'],
        ['no board', [], 'DROP'],
      ];
      for (const [name, boards, outcome] of cases) {
        // As the sidecar delivers it; on DROP the sidecar publishes it to leaderboard.updated.deadletter.
        const answer = await api()
          .post(`/events/${leaderboardUpdated.topic}`)
          .set('content-type', 'application/cloudevents+json')
          .send({
            specversion: '1.0',
            id: randomUUID(),
            source: 'evaluation',
            type: leaderboardUpdated.type,
            datacontenttype: 'application/json',
            data: { schemaVersion: 2, boards, updatedAt },
          });
        expect([name, answer.status, answer.body]).toEqual([name, 200, { status: outcome }]);
      }
      expect((await api().get(`/api/v1/quizzes/${published.id}`)).body.leaderboard).toBeNull();
    });
  });

  describe('attempts', () => {
    let published: AuthorQuiz;
    beforeAll(async () => {
      published = await createPublished(author, quizBody({ title: 'Attempts quiz', timeLimitSeconds: 60 }, 3));
    });

    const rightAnswers = () =>
      published.questions.map((q) => ({
        questionId: q.id,
        optionIds: q.options.filter((o) => o.correct).map((o) => o.id),
      }));

    async function start(player: { id: string; roles: ('player' | 'author' | 'admin')[] }) {
      const res = await api().post(`/api/v1/quizzes/${published.id}/attempts`).set(as(player));
      expect([200, 201]).toContain(res.status);
      return { status: res.status, location: res.headers.location, ...startAttemptResponseSchema.parse(res.body) };
    }

    it('starts on the server clock, one open attempt per player and version (also when racing)', async () => {
      const player = newUser('player');
      const first = await start(player);
      expect(first.status).toBe(201);
      expect(first.location).toBe(`/api/v1/attempts/${first.attempt.id}`);
      expect(first.attempt).toMatchObject({
        status: 'IN_PROGRESS',
        quizVersion: 1,
        userId: player.id,
        late: false,
        score: null,
        submittedAt: null,
      });
      expect(Date.parse(first.attempt.deadlineAt) - Date.parse(first.attempt.startedAt)).toBe(60_000);
      expect(first.quiz).toMatchObject({ id: published.id, version: 1 });
      const again = await start(player);
      expect(again).toMatchObject({ status: 200, attempt: first.attempt });

      const racer = newUser('player');
      const raced = await Promise.all(Array.from({ length: 4 }, () => start(racer)));
      expect(new Set(raced.map((r) => r.attempt.id)).size).toBe(1);
      expect(await quiz.prisma.attempt.count({ where: { userId: racer.id } })).toBe(1);
    });

    it('accepts a submission with 202 and a Location, publishes quiz.completed once, and is idempotent', async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      const answers = rightAnswers();
      const res = await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers });
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe(`/api/v1/attempts/${attempt.id}`);
      expect(attemptAcceptedSchema.parse(res.body)).toMatchObject({
        attemptId: attempt.id,
        status: 'SUBMITTED',
        late: false,
      });

      const again = await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers: [] });
      expect(again.status).toBe(202);
      expect(again.headers.location).toBe(res.headers.location);
      expect(again.body).toEqual(res.body);

      const event = await publishedEvent(quizCompleted.topic, (d) => d.attemptId === attempt.id);
      const data = quizCompleted.schema.parse(event.data);
      expect(data).toMatchObject({
        quizId: published.id,
        quizVersion: 1,
        userId: player.id,
        answers,
        late: false,
        startedAt: attempt.startedAt,
        deadlineAt: attempt.deadlineAt,
      });
      const rows = await quiz.prisma.outboxEvent.findMany({ where: { topic: quizCompleted.topic } });
      expect(rows.filter((r) => (r.data as { attemptId?: string }).attemptId === attempt.id)).toHaveLength(1);
      const view = attemptSchema.parse((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(player))).body);
      expect(view).toMatchObject({ status: 'SUBMITTED', answers });
    });

    it('rejects answers that do not belong to the version (400 naming the field) and keeps the attempt open', async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      const [q1, q2] = published.questions;
      if (!q1 || !q2) throw new Error('the quiz has questions');
      const cases: Array<[unknown, string]> = [
        [[{ questionId: newUser().id, optionIds: [] }], 'body.answers.0.questionId'],
        [[{ questionId: q1.id, optionIds: [q2.options[0]?.id] }], 'body.answers.0.optionIds.0'],
        [[{ questionId: q1.id, optionIds: q1.options.slice(0, 2).map((o) => o.id) }], 'body.answers.0.optionIds'],
      ];
      for (const [answers, field] of cases) {
        expectProblem(
          await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers }),
          400,
          field,
        );
      }
      expect((await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).status).toBe('IN_PROGRESS');
    });

    it('lets only the player submit; the player or an admin read it', async () => {
      const player = newUser('player');
      const stranger = newUser('player');
      const { attempt } = await start(player);
      expectProblem(
        await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(stranger)).send({ answers: [] }),
        403,
      );
      expectProblem(await api().get(`/api/v1/attempts/${attempt.id}`).set(as(stranger)), 403);
      expectProblem(await api().get(`/api/v1/attempts/${attempt.id}/history`).set(as(stranger)), 403);
      expect((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(admin))).status).toBe(200);
      expectProblem(await api().get(`/api/v1/attempts/${newUser().id}`).set(as(player)), 404);
    });

    it('records a submission after the deadline plus grace as late, and says so in quiz.completed', async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      // The player "started" two minutes ago: the 60 s limit and 10 s grace are over.
      const startedAt = new Date(Date.now() - 120_000);
      await quiz.prisma.attempt.update({
        where: { id: attempt.id },
        data: { startedAt, deadlineAt: new Date(startedAt.getTime() + 60_000) },
      });
      const res = await api()
        .post(`/api/v1/attempts/${attempt.id}/submit`)
        .set(as(player))
        .send({ answers: rightAnswers() });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ late: true, status: 'SUBMITTED' });
      const data = quizCompleted.schema.parse(
        (await publishedEvent(quizCompleted.topic, (d) => d.attemptId === attempt.id)).data,
      );
      expect(data.late).toBe(true);
      const history = attemptHistorySchema.parse(
        (await api().get(`/api/v1/attempts/${attempt.id}/history`).set(as(player))).body,
      );
      expect(history.items.at(-1)).toMatchObject({ from: 'IN_PROGRESS', to: 'SUBMITTED', reason: 'submitted late' });
    });

    /** Moves an attempt's clock back: it "started" `secondsAgo` ago (the 60 s limit, 10 s grace). */
    async function startedAgo(attemptId: string, secondsAgo: number) {
      const startedAt = new Date(Date.now() - secondsAgo * 1000);
      await quiz.prisma.attempt.update({
        where: { id: attemptId },
        data: { startedAt, deadlineAt: new Date(startedAt.getTime() + 60_000) },
      });
    }

    /** score.calculated as evaluation sends it for `answers` on the published quiz (its rules: exact match). */
    function scoreFor(
      attemptId: string,
      userId: string,
      answers: Array<{ questionId: string; optionIds: string[] }>,
      late = false,
    ) {
      const questions = published.questions.map((q) => {
        const chosen = answers.find((a) => a.questionId === q.id)?.optionIds ?? [];
        const right = q.options.filter((o) => o.correct).map((o) => o.id);
        const correct = chosen.length === right.length && chosen.every((id) => right.includes(id));
        return { questionId: q.id, correct, pointsAwarded: correct && !late ? q.points : 0 };
      });
      return {
        schemaVersion: 1,
        attemptId,
        quizId: published.id,
        quizVersion: 1,
        userId,
        score: questions.reduce((sum, q) => sum + q.pointsAwarded, 0),
        maxScore: published.maxScore,
        correctCount: late ? 0 : questions.filter((q) => q.correct).length,
        questionCount: questions.length,
        finishedAt: new Date().toISOString(),
        calculatedAt: new Date().toISOString(),
        late,
        quizTitle: published.title,
        questions,
      };
    }

    describe('review', () => {
      it('shows its player each question with the correct options, their choice, the points and the explanation, once scored', async () => {
        const player = newUser('player');
        const { attempt } = await start(player);
        const [q1, q2, q3] = published.questions;
        if (!q1 || !q2 || !q3) throw new Error('the quiz has three questions');
        const wrong = q2.options.find((o) => !o.correct)?.id ?? '';
        const answers = [
          { questionId: q1.id, optionIds: q1.options.filter((o) => o.correct).map((o) => o.id) },
          { questionId: q2.id, optionIds: [wrong] },
        ];
        await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers }).expect(202);
        // Before scoring: 409, and nothing of the answer keys.
        const early = await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player));
        expectProblem(early, 409);
        expect(early.body.code ?? early.body.type).toMatch(/attempt-not-scored/);
        noAnswerKeys(early.body);

        await quiz.deliver(scoreCalculated, `${attempt.id}-score`, scoreFor(attempt.id, player.id, answers));
        await eventually(
          async () => (await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).status === 'SCORED',
        );
        const res = await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player));
        expect(res.status).toBe(200);
        const review = attemptReviewSchema.parse(res.body);
        expect(review).toMatchObject({
          attemptId: attempt.id,
          quizId: published.id,
          quizVersion: 1,
          title: 'Attempts quiz',
          status: 'SCORED',
          late: false,
          score: { score: q1.points, maxScore: published.maxScore, correctCount: 1, questionCount: 3 },
        });
        expect(review.questions.map((q) => [q.id, q.selectedOptionIds, q.correct, q.pointsAwarded])).toEqual([
          [q1.id, answers[0]?.optionIds, true, q1.points],
          [q2.id, [wrong], false, 0],
          [q3.id, [], false, 0],
        ]);
        // The author's questions as written: options with `correct`, and the explanations.
        expect(
          review.questions.map(({ id, type, text, points, explanation, options }) => ({
            id,
            type,
            text,
            points,
            explanation,
            options,
          })),
        ).toEqual(published.questions);
        expect(review.questions.some((q) => q.explanation !== null)).toBe(true);
      });

      it('is its player’s only: 403 to another player, an author and an admin, 404 for an unknown attempt, 401 without a user', async () => {
        const player = newUser('player');
        const { attempt } = await start(player);
        await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers: rightAnswers() });
        await quiz.deliver(scoreCalculated, `${attempt.id}-score`, scoreFor(attempt.id, player.id, rightAnswers()));
        await eventually(
          async () => (await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).status === 'SCORED',
        );
        expect((await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player))).status).toBe(200);
        for (const other of [newUser('player'), author, admin]) {
          const res = await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(other));
          expectProblem(res, 403);
          noAnswerKeys(res.body);
        }
        expectProblem(await api().get(`/api/v1/attempts/${newUser().id}/review`).set(as(player)), 404);
        expectProblem(await api().get(`/api/v1/attempts/${attempt.id}/review`), 401);
      });

      it('answers 409 for an open, a submitted and a failed attempt, and 400 naming the id for a bad one', async () => {
        const player = newUser('player');
        const { attempt } = await start(player);
        expectProblem(await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player)), 409);
        await quiz.prisma.attempt.update({ where: { id: attempt.id }, data: { status: 'FAILED' } });
        expectProblem(await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player)), 409);
        for (const bad of ['not-a-uuid', '123', `${attempt.id}x`, "' OR 1=1 --"]) {
          expectProblem(
            await api()
              .get(`/api/v1/attempts/${encodeURIComponent(bad)}/review`)
              .set(as(player)),
            400,
            'params.id',
          );
        }
      });
    });

    describe('expiry', () => {
      it('closes an open attempt past its deadline plus grace when its player starts again, and starts a new one', async () => {
        const player = newUser('player');
        const first = await start(player);
        await startedAgo(first.attempt.id, 120);
        const again = await start(player);
        expect(again.status).toBe(201);
        expect(again.attempt.id).not.toBe(first.attempt.id);
        expect(again.attempt).toMatchObject({ status: 'IN_PROGRESS', late: false });
        expect(Date.parse(again.attempt.deadlineAt)).toBeGreaterThan(Date.now());

        const old = attemptSchema.parse((await api().get(`/api/v1/attempts/${first.attempt.id}`).set(as(player))).body);
        expect(old).toMatchObject({ status: 'EXPIRED', late: true, submittedAt: null, score: null });
        // Scored per the rules of a late submission without answers: quiz.completed, late, no answers.
        const data = quizCompleted.schema.parse(
          (await publishedEvent(quizCompleted.topic, (d) => d.attemptId === first.attempt.id)).data,
        );
        expect(data).toMatchObject({ answers: [], late: true, userId: player.id, deadlineAt: old.deadlineAt });
        const history = attemptHistorySchema.parse(
          (await api().get(`/api/v1/attempts/${first.attempt.id}/history`).set(as(player))).body,
        );
        expect(history.items.map((h) => [h.from, h.to])).toEqual([
          [null, 'IN_PROGRESS'],
          ['IN_PROGRESS', 'EXPIRED'],
        ]);
        expect(history.items[1]?.eventId).toBe(
          quiz.published.find((p) => p.topic === quizCompleted.topic && p.event.data.attemptId === first.attempt.id)
            ?.event.id,
        );
      });

      it('keeps returning an open attempt within its deadline plus grace', async () => {
        const player = newUser('player');
        const first = await start(player);
        await startedAgo(first.attempt.id, 65); // deadline passed 5 s ago, grace is 10 s
        const again = await start(player);
        expect(again).toMatchObject({ status: 200, attempt: { id: first.attempt.id, status: 'IN_PROGRESS' } });
      });

      it('expires overdue attempts from the scheduled sweep, once each, publishing one quiz.completed per attempt', async () => {
        const players = [newUser('player'), newUser('player'), newUser('player')];
        const attempts = [];
        for (const player of players) attempts.push((await start(player)).attempt);
        const [overdue1, overdue2, fresh] = attempts;
        if (!overdue1 || !overdue2 || !fresh) throw new Error('three attempts');
        await startedAgo(overdue1.id, 3600);
        await startedAgo(overdue2.id, 75);
        // What the sidecar's cron binding does, twice at once (two replicas), then again.
        const runs = await Promise.all([api().post('/attempt-expiry'), api().post('/attempt-expiry')]);
        expect(runs.map((r) => r.status)).toEqual([200, 200]);
        expect(runs.reduce((sum, r) => sum + (r.body as { expired: number }).expired, 0)).toBeGreaterThanOrEqual(2);
        await api().post('/attempt-expiry').expect(200);
        const statusOf = async (id: string) => (await quiz.prisma.attempt.findUniqueOrThrow({ where: { id } })).status;
        expect([await statusOf(overdue1.id), await statusOf(overdue2.id), await statusOf(fresh.id)]).toEqual([
          'EXPIRED',
          'EXPIRED',
          'IN_PROGRESS',
        ]);
        const outbox = await quiz.prisma.outboxEvent.findMany({ where: { topic: quizCompleted.topic } });
        for (const attempt of [overdue1, overdue2]) {
          expect(outbox.filter((r) => (r.data as { attemptId?: string }).attemptId === attempt.id)).toHaveLength(1);
          expect(
            await quiz.prisma.attemptTransition.count({ where: { attemptId: attempt.id, toStatus: 'EXPIRED' } }),
          ).toBe(1);
        }
        expect(outbox.filter((r) => (r.data as { attemptId?: string }).attemptId === fresh.id)).toHaveLength(0);
      });

      it('refuses a submission of an expired attempt (409) and records nothing; its score arrives and it stays EXPIRED', async () => {
        const player = newUser('player');
        const { attempt } = await start(player);
        await startedAgo(attempt.id, 600);
        await api().post('/attempt-expiry').expect(200);
        const before = await quiz.prisma.outboxEvent.count();
        const res = await api()
          .post(`/api/v1/attempts/${attempt.id}/submit`)
          .set(as(player))
          .send({ answers: rightAnswers() });
        expectProblem(res, 409);
        expect(res.body.detail).toMatch(/expired/);
        expect(await quiz.prisma.outboxEvent.count()).toBe(before);
        expect((await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).answers).toBeNull();

        // Nothing to review before it is scored.
        expectProblem(await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player)), 409);
        // Evaluation scores the expired attempt as a late one without answers: 0.
        const eventId = `${attempt.id}-expired-score`;
        await quiz.deliver(scoreCalculated, eventId, scoreFor(attempt.id, player.id, [], true));
        await quiz.deliver(scoreCalculated, eventId, scoreFor(attempt.id, player.id, [], true));
        await eventually(
          async () => (await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).scoredAt !== null,
        );
        const view = attemptSchema.parse((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(player))).body);
        expect(view).toMatchObject({ status: 'EXPIRED', late: true, score: { score: 0, correctCount: 0 } });
        const review = attemptReviewSchema.parse(
          (await api().get(`/api/v1/attempts/${attempt.id}/review`).set(as(player))).body,
        );
        expect(review).toMatchObject({ status: 'EXPIRED', late: true });
        expect(review.questions.every((q) => q.selectedOptionIds.length === 0 && q.pointsAwarded === 0)).toBe(true);
        expect(await quiz.prisma.attemptTransition.count({ where: { attemptId: attempt.id } })).toBe(2);
      });
    });

    it('becomes SCORED on score.calculated, once, whatever the redeliveries', async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers: rightAnswers() });
      const score = (points: number) => ({
        schemaVersion: 1,
        attemptId: attempt.id,
        quizId: published.id,
        userId: player.id,
        score: points,
        maxScore: published.maxScore,
        correctCount: 3,
        questionCount: 3,
        finishedAt: new Date().toISOString(),
        calculatedAt: '2026-11-21T12:00:00.000Z',
      });
      const eventId = `${attempt.id}-score`;
      await quiz.deliver(scoreCalculated, eventId, score(6));
      await quiz.deliver(scoreCalculated, eventId, score(6)); // redelivery
      await quiz.deliver(scoreCalculated, `${attempt.id}-other`, score(1)); // another score for a scored attempt
      await eventually(
        async () => (await quiz.prisma.processedEvent.count({ where: { eventId: `${attempt.id}-other` } })) === 1,
      );

      const view = attemptSchema.parse((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(player))).body);
      expect(view).toMatchObject({
        status: 'SCORED',
        score: { score: 6, maxScore: 6, correctCount: 3, questionCount: 3, scoredAt: '2026-11-21T12:00:00.000Z' },
      });
      const history = attemptHistorySchema.parse(
        (await api().get(`/api/v1/attempts/${attempt.id}/history`).set(as(player))).body,
      );
      expect(history.items.map((h) => [h.from, h.to, h.reason])).toEqual([
        [null, 'IN_PROGRESS', 'started'],
        ['IN_PROGRESS', 'SUBMITTED', 'submitted'],
        ['SUBMITTED', 'SCORED', 'score.calculated'],
      ]);
      expect(history.items[2]?.eventId).toBe(eventId);
      const completed = await publishedEvent(quizCompleted.topic, (d) => d.attemptId === attempt.id);
      expect(history.items[1]?.eventId).toBe(completed.id);
    });

    it('compensates when scoring fails for good: dead-lettered quiz.completed → FAILED and attempt.failed, once', async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      quiz.failScoringOf.add(attempt.id);
      await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers: rightAnswers() });

      const failed = await publishedEvent(attemptFailed.topic, (d) => d.attemptId === attempt.id);
      expect(failed).toMatchObject({ type: attemptFailed.type, source: 'quiz' });
      const data = attemptFailed.schema.parse(failed.data);
      expect(data).toMatchObject({
        quizId: published.id,
        quizVersion: 1,
        quizTitle: 'Attempts quiz',
        userId: player.id,
        reason: COMPENSATION_REASON,
      });
      const view = attemptSchema.parse((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(player))).body);
      expect(view).toMatchObject({ status: 'FAILED', failureReason: COMPENSATION_REASON, score: null });
      const history = attemptHistorySchema.parse(
        (await api().get(`/api/v1/attempts/${attempt.id}/history`).set(as(player))).body,
      );
      expect(history.items.map((h) => h.to)).toEqual(['IN_PROGRESS', 'SUBMITTED', 'FAILED']);
      expect(history.items[2]?.eventId).toBe(failed.id);

      // The dead letter is listed for admins; replayed while evaluation still fails, nothing more happens.
      const completed = await publishedEvent(quizCompleted.topic, (d) => d.attemptId === attempt.id);
      const listed = async () => {
        const res = await api().get('/api/v1/admin/dead-letters').query({ topic: quizCompleted.topic }).set(as(admin));
        expect(res.status).toBe(200);
        return deadLetterListSchema.parse(res.body).items.find((d) => d.eventId === completed.id);
      };
      const deadLetter = await listed();
      if (!deadLetter) throw new Error('the dead letter is listed');
      expect(deadLetter.deliveryCount).toBe(1);
      // quiz's handling of a dead letter is over when its request to /events/quiz.completed.deadletter completes.
      const deadLetterHandled = () => handledDeliveries(quiz, quizCompleted.deadLetterTopic);
      const handledBefore = deadLetterHandled();
      const replay = await api().post(`/api/v1/admin/dead-letters/${deadLetter.id}/replay`).set(as(admin));
      expect(replay.status).toBe(200);
      // The replayed event fails again; wait until quiz has handled its second dead-lettering.
      await eventually(() => deadLetterHandled() >= handledBefore + 1);
      expect(await listed()).toBeDefined();
      const failures = await quiz.prisma.outboxEvent.findMany({ where: { topic: attemptFailed.topic } });
      expect(failures.filter((r) => (r.data as { attemptId?: string }).attemptId === attempt.id)).toHaveLength(1);
      expect(await quiz.prisma.attemptTransition.count({ where: { attemptId: attempt.id } })).toBe(3);

      // Replayed once evaluation is fixed: it scores the attempt after all (FAILED → SCORED).
      quiz.failScoringOf.delete(attempt.id);
      expect((await api().post(`/api/v1/admin/dead-letters/${deadLetter.id}/replay`).set(as(admin))).status).toBe(200);
      await eventually(
        () => quiz.published.filter((p) => p.topic === quizCompleted.topic && p.event.id === completed.id).length >= 3,
      );
      await quiz.deliver(
        scoreCalculated,
        `${attempt.id}-late-score`,
        fullMarks({ attemptId: attempt.id, quizId: published.id, userId: player.id }, data.submittedAt),
      );
      await eventually(
        async () => (await quiz.prisma.attempt.findUniqueOrThrow({ where: { id: attempt.id } })).status === 'SCORED',
      );
      const after = attemptHistorySchema.parse(
        (await api().get(`/api/v1/attempts/${attempt.id}/history`).set(as(player))).body,
      );
      expect(after.items.map((h) => [h.from, h.to])).toEqual([
        [null, 'IN_PROGRESS'],
        ['IN_PROGRESS', 'SUBMITTED'],
        ['SUBMITTED', 'FAILED'],
        ['FAILED', 'SCORED'],
      ]);
      expect((await api().get(`/api/v1/attempts/${attempt.id}`).set(as(player))).body).toMatchObject({
        status: 'SCORED',
        failureReason: null,
      });
    });

    it("resolves quiz's copy of the dead letter as reconciled when the attempt is scored after a replay elsewhere", async () => {
      const player = newUser('player');
      const { attempt } = await start(player);
      quiz.failScoringOf.add(attempt.id);
      await api().post(`/api/v1/attempts/${attempt.id}/submit`).set(as(player)).send({ answers: rightAnswers() });
      const failed = attemptFailed.schema.parse(
        (await publishedEvent(attemptFailed.topic, (d) => d.attemptId === attempt.id)).data,
      );
      const completed = await publishedEvent(quizCompleted.topic, (d) => d.attemptId === attempt.id);
      const find = async (status: 'open' | 'resolved') => {
        const res = await api()
          .get('/api/v1/admin/dead-letters')
          .query({ topic: quizCompleted.topic, status })
          .set(as(admin));
        expect(res.status).toBe(200);
        return deadLetterListSchema.parse(res.body).items.find((d) => d.eventId === completed.id);
      };
      expect(await find('open')).toMatchObject({ status: 'open', resolution: null });

      const deliverScore = () =>
        quiz.deliver(
          scoreCalculated,
          `${attempt.id}-score-after-replay`,
          fullMarks({ attemptId: attempt.id, quizId: published.id, userId: player.id }, failed.submittedAt),
        );
      // Evaluation's own copy was replayed there and scored it: quiz only sees score.calculated.
      await deliverScore();
      await eventually(async () => (await find('resolved')) !== undefined);
      const resolved = await find('resolved');
      expect(resolved).toMatchObject({ status: 'resolved', resolution: 'reconciled', deliveryCount: 1 });
      expect(resolved?.history.map((h) => h.what)).toEqual(['failed', 'reconciled']);
      expect(resolved?.history[1]?.note).toBe(`attempt ${attempt.id} was scored after all`);
      expect(await find('open')).toBeUndefined();
      // The score stays applied once; a redelivery of it changes nothing and still succeeds.
      await deliverScore();
      expect(await quiz.prisma.attemptTransition.count({ where: { attemptId: attempt.id } })).toBe(4);
    });
  });
}

interface RawAnswer {
  status: number;
  /** lower-case names in the order sent, without Date and the connection's own headers */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** A GET that keeps the header block's order (fetch and supertest do not). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = (res.rawHeaders[i] ?? '').toLowerCase();
          if (!['date', 'connection', 'keep-alive'].includes(name)) pairs.push([name, res.rawHeaders[i + 1] ?? '']);
        }
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks) });
      });
    }).on('error', reject);
  });
}
