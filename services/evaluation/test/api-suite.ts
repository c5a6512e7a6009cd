/**
 * evaluation end to end in-process (see harness.ts), shared by the PostgreSQL + Redis and the
 * embedded (PGlite + in-process board) test files so both pass the very same behaviour.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  LEADERBOARD_UPDATED_MAX_BOARDS,
  leaderboardUpdated,
  scoreCalculated,
  type LeaderboardUpdated,
} from '@quizmesh/contracts/events';
import { deadLetterListSchema, deadLetterReplayResultSchema } from '@quizmesh/platform/deadletters';
import { eventually, expectProblem } from '@quizmesh/platform/testing';
import {
  leaderboardPageSchema,
  playerRankSchema,
  playerStatisticsSchema,
  resultListSchema,
  resultSchema,
} from '@quizmesh/contracts/evaluation-api';
import { isoWeekOf, rebuildBoards } from '../src/leaderboard';
import { SCORING_CONSUMER } from '../src/consumers';
import {
  asUser,
  makeAttempt,
  makeQuiz,
  makeRegistration,
  rowCounts,
  startEvaluation,
  type Backend,
  type EvaluationUnderTest,
  type QuizFixture,
} from './harness';

export function evaluationApiSuite(backend: Backend): void {
  let evaluation: EvaluationUnderTest;
  /** delivers quiz.completed for an attempt at `quiz` (all correct unless `answers` say otherwise) */
  const completeAttempt = (quiz: QuizFixture, attempt: Parameters<typeof makeAttempt>[1]) =>
    evaluation.deliver('quiz.completed', makeAttempt(quiz, attempt));

  beforeAll(async () => {
    evaluation = await startEvaluation({ backend });
  });
  afterAll(async () => {
    await evaluation?.stop();
  });

  const api = () => request(evaluation.url);
  const publishedFor = (topic: string, match: (data: Record<string, unknown>) => boolean) =>
    evaluation.published.filter((p) => p.topic === topic && match(p.event.data as Record<string, unknown>));
  type BoardUpdate = LeaderboardUpdated['boards'][number];
  /** leaderboard.updated events published so far (checked against the contract) that name a board matching `match` */
  const boardEvents = (match: (board: BoardUpdate) => boolean) =>
    evaluation.published
      .filter((p) => p.topic === leaderboardUpdated.topic)
      .map((p) => ({ type: p.event.type, ...leaderboardUpdated.schema.parse(p.event.data) }))
      .filter((e) => e.boards.some(match));
  /** the boards matching `match` in the events published so far, in publishing order */
  const boardsPublished = (match: (board: BoardUpdate) => boolean) =>
    boardEvents(match).flatMap((e) => e.boards.filter(match));

  async function publishQuiz() {
    const quiz = makeQuiz();
    await expect(evaluation.deliver('quiz.published', quiz.published)).resolves.toBe('SUCCESS');
    return quiz;
  }

  describe('scoring', () => {
    it('keeps the answer key from quiz.published, scores quiz.completed and publishes score.calculated through the outbox', async () => {
      const quiz = await publishQuiz();
      const [single, multiple] = quiz.questions;
      const attempt = makeAttempt(quiz, {
        // single right (2 points), multiple only half right (all-or-nothing: 0)
        answers: [
          { questionId: single?.questionId ?? '', optionIds: single?.correctOptionIds ?? [] },
          { questionId: multiple?.questionId ?? '', optionIds: [multiple?.correctOptionIds[0] ?? ''] },
        ],
      });
      await expect(evaluation.deliver('quiz.completed', attempt)).resolves.toBe('SUCCESS');

      const res = await api().get(`/api/v1/results/${attempt.attemptId}`).set(asUser(attempt.userId));
      expect(res.status).toBe(200);
      expect(resultSchema.parse(res.body)).toMatchObject({
        attemptId: attempt.attemptId,
        quizId: quiz.quizId,
        quizVersion: 1,
        userId: attempt.userId,
        score: 2,
        maxScore: 5,
        percent: 40,
        correctCount: 1,
        questionCount: 2,
        late: false,
        finishedAt: attempt.submittedAt,
      });

      await eventually(() => publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId).length > 0);
      const [delivered] = publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId);
      expect(delivered?.event).toMatchObject({ type: scoreCalculated.type, source: 'evaluation' });
      expect(scoreCalculated.schema.parse(delivered?.event.data)).toMatchObject({
        score: 2,
        maxScore: 5,
        correctCount: 1,
        questionCount: 2,
        quizVersion: 1,
        late: false,
        finishedAt: attempt.submittedAt,
        // For the player's review (quiz) and the result message (notification).
        quizTitle: 'Capitals of Europe',
        questions: [
          { questionId: single?.questionId, correct: true, pointsAwarded: 2 },
          { questionId: multiple?.questionId, correct: false, pointsAwarded: 0 },
        ],
      });
    });

    it('scores an attempt once however often quiz.completed arrives, and counts it once on the boards', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz);
      const eventId = randomUUID();
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('SUCCESS');
      const before = await rowCounts(evaluation.prisma);
      // the same event again, concurrently twice more, and the same attempt under a new event id
      const outcomes = await Promise.all([
        evaluation.deliver('quiz.completed', attempt, eventId),
        evaluation.deliver('quiz.completed', attempt, eventId),
        evaluation.deliver('quiz.completed', attempt, randomUUID()),
      ]);
      expect(outcomes).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      const after = await rowCounts(evaluation.prisma);
      expect({ ...after, processed: 0 }).toEqual({ ...before, processed: 0 });
      expect(after.processed).toBe(before.processed + 1); // the new event id is marked, nothing else
      await expect(evaluation.prisma.result.count({ where: { attemptId: attempt.attemptId } })).resolves.toBe(1);
      await expect(
        evaluation.prisma.processedEvent.count({ where: { consumer: SCORING_CONSUMER, eventId } }),
      ).resolves.toBe(1);

      const board = await api().get(`/api/v1/leaderboards/quiz/${quiz.quizId}`).set(asUser(attempt.userId));
      expect(leaderboardPageSchema.parse(board.body)).toMatchObject({
        totalPlayers: 1,
        entries: [{ userId: attempt.userId, score: 5 }],
      });
      await eventually(() => publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId).length > 0);
      await evaluation.relay.runOnce();
      expect(publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId)).toHaveLength(1);
    });

    it('answers RETRY when quiz.completed arrives before its quiz.published, writes nothing, and scores the redelivery', async () => {
      const quiz = makeQuiz();
      const attempt = makeAttempt(quiz);
      const eventId = randomUUID();
      const before = await rowCounts(evaluation.prisma);
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('RETRY');
      expect(await rowCounts(evaluation.prisma)).toEqual(before);
      // another version of the same quiz does not answer for this one
      await evaluation.deliver('quiz.published', makeQuiz({ quizId: quiz.quizId, version: 2 }).published);
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('RETRY');

      await evaluation.deliver('quiz.published', quiz.published);
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('SUCCESS');
      await expect(
        evaluation.prisma.result.findUniqueOrThrow({ where: { attemptId: attempt.attemptId } }),
      ).resolves.toMatchObject({
        score: 5,
      });
    });

    it('keeps the first answer key of a version when quiz.published is redelivered', async () => {
      const quiz = await publishQuiz();
      const tampered = {
        ...quiz.published,
        title: 'Changed',
        questions: quiz.published.questions.map((q) => ({ ...q, points: 9 })),
      };
      tampered.maxScore = 18;
      await expect(evaluation.deliver('quiz.published', tampered)).resolves.toBe('SUCCESS');
      await expect(
        evaluation.prisma.answerKey.findUniqueOrThrow({
          where: { quizId_version: { quizId: quiz.quizId, version: 1 } },
        }),
      ).resolves.toMatchObject({ title: 'Capitals of Europe', maxScore: 5 });
    });

    it('scores a late attempt 0, publishes it as late, and keeps it off the leaderboards', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz, { late: true });
      await expect(evaluation.deliver('quiz.completed', attempt)).resolves.toBe('SUCCESS');
      const res = await api().get(`/api/v1/results/${attempt.attemptId}`).set(asUser(attempt.userId));
      expect(res.body).toMatchObject({ score: 0, correctCount: 0, late: true });
      const board = await api().get(`/api/v1/leaderboards/quiz/${quiz.quizId}`).set(asUser(attempt.userId));
      expect(board.body).toMatchObject({ totalPlayers: 0, entries: [] });
      await eventually(() => publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId).length > 0);
      expect(publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId)[0]?.event.data).toMatchObject({
        score: 0,
        late: true,
      });
    });

    it('drops quiz.completed that does not match the contract (dead-letter topic), writing nothing', async () => {
      const before = await rowCounts(evaluation.prisma);
      const quiz = makeQuiz();
      await expect(
        evaluation.deliver('quiz.completed', { ...makeAttempt(quiz), attemptId: 'not-a-uuid' }),
      ).resolves.toBe('DROP');
      await expect(evaluation.deliver('quiz.published', { ...quiz.published, maxScore: 4 })).resolves.toBe('DROP');
      expect(await rowCounts(evaluation.prisma)).toEqual(before);
    });
  });

  describe('leaderboards', () => {
    it('ranks both players in the right order on the global, quiz and weekly boards, with display names and the tie-break', async () => {
      const quiz = await publishQuiz();
      const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()].map(String) as [string, string, string];
      await evaluation.deliver('user.registered', makeRegistration(first, 'Ada'));
      await evaluation.deliver('user.registered', makeRegistration(second, 'Grace'));
      // equal full scores: Grace finished a second earlier and ranks first; third scored less
      const wrong = quiz.questions.map((q) => ({
        questionId: q.questionId,
        optionIds: q.questionId === quiz.questions[0]?.questionId ? q.correctOptionIds : [],
      }));
      await completeAttempt(quiz, { userId: first, submittedAt: '2026-11-18T12:00:31.000Z' });
      await completeAttempt(quiz, { userId: third, submittedAt: '2026-11-18T11:00:00.000Z', answers: wrong });
      await completeAttempt(quiz, { userId: second, submittedAt: '2026-11-18T12:00:30.000Z' });

      const res = await api().get(`/api/v1/leaderboards/quiz/${quiz.quizId}`).set(asUser(first));
      expect(res.status).toBe(200);
      expect(leaderboardPageSchema.parse(res.body)).toEqual({
        board: { kind: 'quiz', quizId: quiz.quizId },
        totalPlayers: 3,
        entries: [
          { rank: 1, userId: second, displayName: 'Grace', score: 5, finishedAt: '2026-11-18T12:00:30.000Z' },
          { rank: 2, userId: first, displayName: 'Ada', score: 5, finishedAt: '2026-11-18T12:00:31.000Z' },
          { rank: 3, userId: third, displayName: null, score: 2, finishedAt: '2026-11-18T11:00:00.000Z' },
        ],
      });

      const weekly = await api().get('/api/v1/leaderboards/weekly/2026-W47').query({ limit: 100 }).set(asUser(first));
      expect(weekly.status).toBe(200);
      const weeklyIds = leaderboardPageSchema.parse(weekly.body).entries.map((e) => e.userId);
      expect(weeklyIds.filter((id) => [first, second, third].includes(id))).toEqual([second, first, third]);
      const nextWeek = await api().get('/api/v1/leaderboards/weekly/2026-W48').set(asUser(first));
      expect(nextWeek.body.entries.map((e: { userId: string }) => e.userId)).not.toContain(first);

      const rankOf = async (userId: string) =>
        playerRankSchema.parse(
          (await api().get(`/api/v1/leaderboards/global/players/${userId}`).set(asUser(first))).body,
        ).player.rank;
      expect(await rankOf(second)).toBeLessThan(await rankOf(first));
      expect(await rankOf(first)).toBeLessThan(await rankOf(third));

      // leaderboard.updated for the quiz board carries the new top with names (depth 3 in the harness)
      const ofQuiz = (b: BoardUpdate) => b.quizId === quiz.quizId;
      await eventually(() => boardsPublished((b) => ofQuiz(b) && b.top.length === 3).length > 0);
      const latest = boardsPublished(ofQuiz).find((b) => b.top.length === 3);
      expect(latest?.board).toBe('quiz');
      expect(latest?.top.map((t) => [t.rank, t.userId, t.displayName, t.score])).toEqual([
        [1, second, 'Grace', 5],
        [2, first, 'Ada', 5],
        [3, third, undefined, 2],
      ]);
      expect(boardsPublished((b) => b.board === 'weekly').some((b) => b.period === '2026-W47')).toBe(true);
    });

    it('keeps each player’s best attempt: a worse later attempt changes nothing, a better one moves them up', async () => {
      const quiz = await publishQuiz();
      const player = randomUUID();
      const rival = randomUUID();
      const half = quiz.questions.map((q, i) => ({
        questionId: q.questionId,
        optionIds: i === 0 ? [] : q.correctOptionIds,
      }));
      await completeAttempt(quiz, { userId: rival, submittedAt: '2026-11-18T10:00:00.000Z', answers: half });
      await completeAttempt(quiz, { userId: player, submittedAt: '2026-11-18T10:05:00.000Z', answers: [] });
      const board = () => api().get(`/api/v1/leaderboards/quiz/${quiz.quizId}`).set(asUser(player));
      expect((await board()).body.entries.map((e: { userId: string; score: number }) => [e.userId, e.score])).toEqual([
        [rival, 3],
        [player, 0],
      ]);
      await completeAttempt(quiz, { userId: player, submittedAt: '2026-11-18T10:10:00.000Z' });
      await completeAttempt(quiz, { userId: player, submittedAt: '2026-11-18T10:15:00.000Z', answers: half });
      expect(
        (await board()).body.entries.map((e: { userId: string; score: number; finishedAt: string }) => [
          e.userId,
          e.score,
          e.finishedAt,
        ]),
      ).toEqual([
        [player, 5, '2026-11-18T10:10:00.000Z'],
        [rival, 3, '2026-11-18T10:00:00.000Z'],
      ]);
      // The announced top has the raised entry in place of the old one (the scoring statement
      // reads the board as it was, so it must not show the player twice or at the old score).
      const announced = boardsPublished((b) => b.board === 'quiz' && b.quizId === quiz.quizId).map((b) =>
        b.top.map((t) => [t.rank, t.userId, t.score, t.finishedAt]),
      );
      expect(announced).toEqual([
        [[1, rival, 3, '2026-11-18T10:00:00.000Z']],
        [
          [1, rival, 3, '2026-11-18T10:00:00.000Z'],
          [2, player, 0, '2026-11-18T10:05:00.000Z'],
        ],
        [
          [1, player, 5, '2026-11-18T10:10:00.000Z'],
          [2, rival, 3, '2026-11-18T10:00:00.000Z'],
        ],
      ]);
    });

    it('answers a player’s rank with the players around them, and pages the top', async () => {
      const quiz = await publishQuiz();
      const players = Array.from({ length: 7 }, () => randomUUID());
      // player i finishes i minutes later with the same full score: rank i + 1
      for (const [i, userId] of players.entries()) {
        const submittedAt = new Date(Date.parse('2026-11-18T09:00:00.000Z') + i * 60_000).toISOString();
        await evaluation.deliver('quiz.completed', makeAttempt(quiz, { userId, submittedAt }));
      }
      const res = await api()
        .get(`/api/v1/leaderboards/quiz/${quiz.quizId}/players/${players[3]}`)
        .query({ around: 2 })
        .set(asUser(players[0] ?? ''));
      expect(res.status).toBe(200);
      const rank = playerRankSchema.parse(res.body);
      expect(rank.player).toMatchObject({ rank: 4, userId: players[3] });
      expect(rank.totalPlayers).toBe(7);
      expect(rank.around.map((e) => [e.rank, e.userId])).toEqual([2, 3, 4, 5, 6].map((r) => [r, players[r - 1]]));

      const page = await api()
        .get(`/api/v1/leaderboards/quiz/${quiz.quizId}`)
        .query({ limit: 2, offset: 5 })
        .set(asUser(players[0] ?? ''));
      expect(page.body.entries.map((e: { rank: number; userId: string }) => [e.rank, e.userId])).toEqual([
        [6, players[5]],
        [7, players[6]],
      ]);
      const defaults = await api()
        .get(`/api/v1/leaderboards/quiz/${quiz.quizId}`)
        .set(asUser(players[0] ?? ''));
      expect(defaults.body.entries).toHaveLength(7);

      const absent = await api()
        .get(`/api/v1/leaderboards/quiz/${quiz.quizId}/players/${randomUUID()}`)
        .set(asUser(players[0] ?? ''));
      expectProblem(absent, 404);
    });

    it('repairs the sorted sets from a redelivery when the update after the commit was lost, and rebuilds them from the database', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz);
      const eventId = randomUUID();
      await evaluation.deliver('quiz.completed', attempt, eventId);
      const board = `quiz:${quiz.quizId}`;
      await evaluation.store.deleteBoards([board]); // as if the process died between commit and ZADD
      await expect(evaluation.store.size(board)).resolves.toBe(0);
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('SUCCESS');
      await expect(evaluation.store.around(board, attempt.userId, 0)).resolves.toMatchObject({ player: { rank: 1 } });

      const top = await evaluation.store.top('global', 0, 1_000);
      await evaluation.store.deleteBoards(['global', board]);
      expect(await rebuildBoards(evaluation.prisma, evaluation.store, 7)).toBeGreaterThanOrEqual(top.total);
      await expect(evaluation.store.top('global', 0, 1_000)).resolves.toEqual(top);
    });
  });

  describe('leaderboard.updated', () => {
    it('announces a scoring that raises three boards in one event (one outbox row) naming the three', async () => {
      const quiz = await publishQuiz();
      // The earliest full score on the shared global board, in a week of its own: in all three tops.
      const attempt = makeAttempt(quiz, { submittedAt: '1971-01-06T10:00:00.000Z' });
      await expect(evaluation.deliver('quiz.completed', attempt)).resolves.toBe('SUCCESS');

      // Every leaderboard.updated row whose data mentions the player (each top shows them).
      const rows = await evaluation.prisma.$queryRawUnsafe<Array<{ type: string; data: unknown }>>(
        `SELECT "type", "data" FROM "OutboxEvent" WHERE "topic" = $1 AND "data"::text LIKE '%' || $2 || '%'`,
        leaderboardUpdated.topic,
        attempt.userId,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.type).toBe('dev.quizmesh.leaderboard.updated.v2');
      const written = leaderboardUpdated.schema.parse(rows[0]?.data);
      expect(written.boards.map((b) => [b.board, b.quizId ?? b.period ?? null])).toEqual([
        ['global', null],
        ['quiz', quiz.quizId],
        ['weekly', '1971-W01'],
      ]);
      for (const board of written.boards)
        expect(board.top[0]).toMatchObject({ rank: 1, userId: attempt.userId, score: 5 });

      await eventually(() => boardEvents((b) => b.quizId === quiz.quizId).length > 0);
      await evaluation.relay.runOnce();
      const delivered = boardEvents((b) => b.quizId === quiz.quizId);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]?.type).toBe(leaderboardUpdated.type);
      expect(delivered[0]?.boards).toHaveLength(3);
    });

    it('announces only the raised boards whose top shows the player, and nothing when none is left', async () => {
      const quiz = await publishQuiz();
      const ofQuiz = (b: BoardUpdate) => b.quizId === quiz.quizId;
      const late = '2026-11-18T12:00:00.000Z';
      // Three players take the quiz board's top 3 (the harness's depth) ...
      for (const minute of [1, 2, 3]) {
        await completeAttempt(quiz, { submittedAt: `2026-11-18T10:0${minute}:00.000Z` });
      }
      await eventually(() => boardsPublished((b) => ofQuiz(b) && b.top.length === 3).length > 0);
      const before = boardEvents(ofQuiz).length;
      const outboxBefore = await evaluation.prisma.outboxEvent.count({ where: { topic: leaderboardUpdated.topic } });
      // ... so a fourth, later with the same score, enters no top: no event at all.
      await completeAttempt(quiz, { submittedAt: late });
      await evaluation.relay.runOnce();
      expect(await evaluation.prisma.outboxEvent.count({ where: { topic: leaderboardUpdated.topic } })).toBe(
        outboxBefore,
      );
      expect(boardEvents(ofQuiz)).toHaveLength(before);
    });

    it('re-announces a renamed player in events of at most LEADERBOARD_UPDATED_MAX_BOARDS boards, each board once', async () => {
      const player = randomUUID();
      const quizzes = Array.from({ length: LEADERBOARD_UPDATED_MAX_BOARDS + 1 }, () => makeQuiz());
      await Promise.all(quizzes.map((q) => evaluation.deliver('quiz.published', q.published)));
      await Promise.all(quizzes.map((q) => completeAttempt(q, { userId: player })));

      const renamed = {
        schemaVersion: 1,
        userId: player,
        displayName: 'Chunked',
        changedAt: '2026-11-20T10:00:00.000Z',
      };
      await expect(evaluation.deliver('user.renamed', renamed)).resolves.toBe('SUCCESS');
      const showsRename = (b: BoardUpdate) => b.top.some((t) => t.userId === player && t.displayName === 'Chunked');
      // Every quiz board, and the global and weekly ones when the player is in their top 3 (shared with other tests).
      const entered = await evaluation.prisma.boardEntry.count({ where: { userId: player } });
      expect(entered).toBeGreaterThan(LEADERBOARD_UPDATED_MAX_BOARDS);
      await eventually(() => boardsPublished(showsRename).length >= quizzes.length);
      await evaluation.relay.runOnce();
      const events = boardEvents(showsRename);
      expect(events).toHaveLength(2);
      expect(events.map((e) => e.boards.length).sort((a, b) => b - a)[0]).toBe(LEADERBOARD_UPDATED_MAX_BOARDS);
      const quizBoards = events.flatMap((e) => e.boards.filter((b) => b.board === 'quiz').map((b) => b.quizId));
      expect(new Set(quizBoards).size).toBe(quizBoards.length);
      expect(new Set(quizBoards)).toEqual(new Set(quizzes.map((q) => q.quizId)));
      // One change: the same time on every event.
      expect(new Set(events.map((e) => e.updatedAt)).size).toBe(1);
    });
  });

  describe('results, statistics and authorization', () => {
    it('lists a player’s results newest first with a cursor, and their statistics', async () => {
      const quiz = await publishQuiz();
      const player = randomUUID();
      const times = ['2026-11-18T08:00:00.000Z', '2026-11-18T08:10:00.000Z', '2026-11-18T08:20:00.000Z'];
      const first = makeAttempt(quiz, { userId: player, submittedAt: times[0], answers: [] });
      const second = makeAttempt(quiz, { userId: player, submittedAt: times[1] });
      const late = makeAttempt(quiz, { userId: player, submittedAt: times[2], late: true });
      for (const attempt of [first, second, late]) await evaluation.deliver('quiz.completed', attempt);

      const page1 = await api().get(`/api/v1/results/users/${player}`).query({ limit: 2 }).set(asUser(player));
      expect(page1.status).toBe(200);
      const list1 = resultListSchema.parse(page1.body);
      expect(list1.items.map((r) => r.attemptId)).toEqual([late.attemptId, second.attemptId]);
      expect(list1.nextCursor).not.toBeNull();
      const page2 = await api()
        .get(`/api/v1/results/users/${player}`)
        .query({ limit: 2, cursor: list1.nextCursor })
        .set(asUser(player));
      const list2 = resultListSchema.parse(page2.body);
      expect(list2).toEqual({ items: [expect.objectContaining({ attemptId: first.attemptId })], nextCursor: null });

      const stats = await api().get(`/api/v1/results/users/${player}/stats`).set(asUser(player));
      expect(playerStatisticsSchema.parse(stats.body)).toEqual({
        userId: player,
        attempts: 3,
        bestScore: 5,
        bestPercent: 100,
        averageScore: 1.67,
        averagePercent: 33.33,
        lateAttempts: 1,
        lastPlayedAt: times[2],
      });
      const nobody = randomUUID();
      const empty = await api().get(`/api/v1/results/users/${nobody}/stats`).set(asUser(nobody));
      expect(empty.body).toEqual({
        userId: nobody,
        attempts: 0,
        bestScore: null,
        bestPercent: null,
        averageScore: null,
        averagePercent: null,
        lateAttempts: 0,
        lastPlayedAt: null,
      });
      const seed = await api().get(`/api/results/user/${player}`).set(asUser(player));
      expect(resultListSchema.parse(seed.body).items).toHaveLength(3);
    });

    it('lets a player read only their own results; an admin reads anyone’s; no user is 401', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz);
      await evaluation.deliver('quiz.completed', attempt);
      const other = randomUUID();
      const admin = randomUUID();
      const paths = [
        `/api/v1/results/${attempt.attemptId}`,
        `/api/v1/results/users/${attempt.userId}`,
        `/api/v1/results/users/${attempt.userId}/stats`,
        `/api/results/user/${attempt.userId}`,
      ];
      for (const path of paths) {
        expect((await api().get(path).set(asUser(attempt.userId))).status).toBe(200);
        expect((await api().get(path).set(asUser(admin, 'admin'))).status).toBe(200);
        expectProblem(await api().get(path).set(asUser(other)), 403);
        expectProblem(await api().get(path).set(asUser(other, 'author')), 403);
        expectProblem(await api().get(path), 401);
        // user headers from anyone but the gateway's sidecar are ignored
        expectProblem(
          await api()
            .get(path)
            .set({ ...asUser(attempt.userId), 'dapr-caller-app-id': 'quiz' }),
          401,
        );
      }
      // A player's rank ("around me") needs a user; the pages are public (next test).
      const rankPath = `/api/v1/leaderboards/global/players/${attempt.userId}`;
      expectProblem(await api().get(rankPath), 401);
      expect((await api().get(rankPath).set(asUser(other))).status).toBe(200);
      expectProblem(await api().get(`/api/v1/results/${randomUUID()}`).set(asUser(other)), 404);
    });

    it('answers every leaderboard page without a user, as with one: global, quiz, weekly, current week, seed path', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz, { submittedAt: new Date().toISOString() });
      await evaluation.deliver('quiz.completed', attempt);
      for (const path of [
        '/api/v1/leaderboards/global',
        `/api/v1/leaderboards/quiz/${quiz.quizId}`,
        '/api/v1/leaderboards/weekly/2026-W47',
        '/api/v1/leaderboards/weekly/current',
        '/api/leaderboard',
      ]) {
        const anonymous = await api().get(path).query({ limit: 100 });
        expect([path, anonymous.status]).toEqual([path, 200]);
        leaderboardPageSchema.parse(anonymous.body);
        const signedIn = await api().get(path).query({ limit: 100 }).set(asUser(attempt.userId));
        expect(anonymous.body).toEqual(signedIn.body);
      }
      const quizBoard = await api().get(`/api/v1/leaderboards/quiz/${quiz.quizId}`);
      expect(quizBoard.body.entries.map((e: { userId: string }) => e.userId)).toEqual([attempt.userId]);
    });

    it('serves the current ISO week at weekly/current, computed by the server, with the rank lookup under it', async () => {
      const quiz = await publishQuiz();
      const attempt = makeAttempt(quiz, { submittedAt: new Date().toISOString() });
      await evaluation.deliver('quiz.completed', attempt);
      const current = await api().get('/api/v1/leaderboards/weekly/current').query({ limit: 100 });
      expect(current.status).toBe(200);
      const page = leaderboardPageSchema.parse(current.body);
      expect(page.board).toEqual({ kind: 'weekly', isoWeek: isoWeekOf(new Date()) });
      expect(page.entries.map((e) => e.userId)).toContain(attempt.userId);
      const named = await api()
        .get(`/api/v1/leaderboards/weekly/${isoWeekOf(new Date())}`)
        .query({ limit: 100 });
      expect(named.body).toEqual(current.body);

      const rankPath = `/api/v1/leaderboards/weekly/current/players/${attempt.userId}`;
      expectProblem(await api().get(rankPath), 401);
      const rank = await api().get(rankPath).set(asUser(attempt.userId));
      expect(rank.status).toBe(200);
      expect(playerRankSchema.parse(rank.body).player.userId).toBe(attempt.userId);
    });

    it('renames a player on every board from user.renamed, keeps the latest name, and re-announces the tops that show them', async () => {
      const quiz = await publishQuiz();
      const player = randomUUID();
      await evaluation.deliver('user.registered', makeRegistration(player, 'player 121947'));
      await evaluation.deliver('quiz.completed', makeAttempt(quiz, { userId: player }));
      const nameOn = async (path: string) =>
        leaderboardPageSchema
          .parse((await api().get(path).query({ limit: 100 })).body)
          .entries.find((e) => e.userId === player)?.displayName;
      const announced = () => boardEvents((b) => b.top.some((e) => e.userId === player && e.displayName === 'Ada'));
      const renamed = { schemaVersion: 1, userId: player, displayName: 'Ada', changedAt: '2026-11-20T10:00:00.000Z' };
      await expect(evaluation.deliver('user.renamed', renamed)).resolves.toBe('SUCCESS');
      expect(await nameOn(`/api/v1/leaderboards/quiz/${quiz.quizId}`)).toBe('Ada');
      expect(await nameOn('/api/v1/leaderboards/weekly/2026-W47')).toBe('Ada');
      // The quiz board's top shows them: quiz (its snapshot) and the gateway (live boards) hear of it.
      await eventually(() => announced().some((e) => e.boards.some((b) => b.quizId === quiz.quizId)));
      const announcements = announced().length;

      // An older rename arriving late, and a repeat, change nothing and publish nothing.
      const older = { ...renamed, displayName: 'A. L.', changedAt: '2026-11-19T10:00:00.000Z' };
      await expect(evaluation.deliver('user.renamed', older)).resolves.toBe('SUCCESS');
      await expect(evaluation.deliver('user.renamed', renamed)).resolves.toBe('SUCCESS');
      expect(await nameOn(`/api/v1/leaderboards/quiz/${quiz.quizId}`)).toBe('Ada');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(announced()).toHaveLength(announcements);
    });

    it('keeps a rename that arrives before the registration', async () => {
      const player = randomUUID();
      const renamed = { schemaVersion: 1, userId: player, displayName: 'Grace', changedAt: '2026-11-20T10:00:00.000Z' };
      await expect(evaluation.deliver('user.renamed', renamed)).resolves.toBe('SUCCESS');
      await expect(evaluation.deliver('user.registered', makeRegistration(player, 'player 5'))).resolves.toBe(
        'SUCCESS',
      );
      expect(await evaluation.prisma.player.findUnique({ where: { userId: player } })).toMatchObject({
        displayName: 'Grace',
      });
    });

    it('drops a user.renamed that does not match the contract, writing nothing', async () => {
      const player = randomUUID();
      await evaluation.deliver('user.registered', makeRegistration(player, 'Hedy'));
      const before = await rowCounts(evaluation.prisma);
      for (const bad of [
        { schemaVersion: 1, userId: player, displayName: '', changedAt: '2026-11-20T10:00:00.000Z' },
        { schemaVersion: 1, userId: 'not-a-uuid', displayName: 'X', changedAt: '2026-11-20T10:00:00.000Z' },
        { schemaVersion: 1, userId: player, displayName: 'X', changedAt: 'yesterday' },
        { schemaVersion: 2, userId: player, displayName: 'X', changedAt: '2026-11-20T10:00:00.000Z' },
      ]) {
        await expect(evaluation.deliver('user.renamed', bad)).resolves.toBe('DROP');
      }
      expect(await rowCounts(evaluation.prisma)).toEqual(before);
      expect((await evaluation.prisma.player.findUnique({ where: { userId: player } }))?.displayName).toBe('Hedy');
    });

    it('serves the seed paths: global top at /api/leaderboard, and 410 for client-submitted results', async () => {
      const user = randomUUID();
      const top = await api().get('/api/leaderboard').query({ limit: 3 }).set(asUser(user));
      expect(top.status).toBe(200);
      expect(leaderboardPageSchema.parse(top.body).board).toEqual({ kind: 'global' });
      expect(top.body.entries.length).toBeLessThanOrEqual(3);

      const before = await rowCounts(evaluation.prisma);
      const submit = await api()
        .post('/api/results/submit')
        .set(asUser(user))
        .send({ quizId: randomUUID(), score: 100 });
      expectProblem(submit, 410);
      expect(submit.body.detail).toMatch(/POST \/api\/v1\/attempts\/\{attemptId\}\/submit/);
      expect(await rowCounts(evaluation.prisma)).toEqual(before);
    });
  });

  describe('through the sidecar', () => {
    it('receives quiz.published, user.registered and quiz.completed through the production Subscriptions', async () => {
      const quiz = makeQuiz();
      const attempt = makeAttempt(quiz);
      await evaluation.publish('user.registered', makeRegistration(attempt.userId, 'Katherine'));
      await evaluation.publish('quiz.published', quiz.published);
      await eventually(async () => (await evaluation.prisma.answerKey.count({ where: { quizId: quiz.quizId } })) === 1);
      await evaluation.publish('quiz.completed', attempt);
      await eventually(
        async () => (await evaluation.prisma.result.count({ where: { attemptId: attempt.attemptId } })) === 1,
      );
      const rank = await api()
        .get(`/api/v1/leaderboards/quiz/${quiz.quizId}/players/${attempt.userId}`)
        .set(asUser(attempt.userId));
      expect(rank.body.player).toMatchObject({ rank: 1, displayName: 'Katherine', score: 5 });
    });

    it('keeps dead letters of its three topics in the state store and lists them to an admin, once per event', async () => {
      const admin = asUser(randomUUID(), 'player', 'admin');
      const quiz = makeQuiz();
      const eventIds = { published: randomUUID(), registered: randomUUID(), completed: randomUUID() };
      const completed = { schemaVersion: 1, attemptId: 'x' };
      const ids: string[] = Object.values(eventIds);
      // Dapr redelivers the same dead letter: one entry, counted twice.
      await expect(evaluation.deliver('quiz.completed.deadletter', completed, eventIds.completed)).resolves.toBe(
        'SUCCESS',
      );
      await expect(evaluation.deliver('quiz.completed.deadletter', completed, eventIds.completed)).resolves.toBe(
        'SUCCESS',
      );
      await expect(evaluation.deliver('quiz.published.deadletter', quiz.published, eventIds.published)).resolves.toBe(
        'SUCCESS',
      );
      await expect(
        evaluation.deliver('user.registered.deadletter', makeRegistration(randomUUID(), 'Lost'), eventIds.registered),
      ).resolves.toBe('SUCCESS');

      const res = await api().get('/api/v1/admin/dead-letters').query({ limit: 100 }).set(admin);
      expect(res.status).toBe(200);
      const mine = deadLetterListSchema.parse(res.body).items.filter((d) => ids.includes(d.eventId));
      expect(mine.map((d) => [d.eventId, d.topic]).sort()).toEqual(
        [
          [eventIds.completed, 'quiz.completed'],
          [eventIds.published, 'quiz.published'],
          [eventIds.registered, 'user.registered'],
        ].sort(),
      );
      expect(mine.find((d) => d.eventId === eventIds.completed)).toMatchObject({
        deliveryCount: 2,
        event: expect.objectContaining({ id: eventIds.completed, data: completed }),
      });
      const byTopic = await api().get('/api/v1/admin/dead-letters').query({ topic: 'quiz.completed' }).set(admin);
      expect(deadLetterListSchema.parse(byTopic.body).items.map((d) => d.eventId)).toContain(eventIds.completed);
      expect(deadLetterListSchema.parse(byTopic.body).items.every((d) => d.topic === 'quiz.completed')).toBe(true);

      // Admins only, and only the topics evaluation consumes.
      expectProblem(await api().get('/api/v1/admin/dead-letters').set(asUser(randomUUID())), 403);
      expectProblem(await api().get('/api/v1/admin/dead-letters').query({ topic: 'score.calculated' }).set(admin), 400);
    });

    it('replays a dead-lettered quiz.completed to its topic once the answer key is there, and scores it', async () => {
      const admin = asUser(randomUUID(), 'admin');
      const quiz = makeQuiz();
      const attempt = makeAttempt(quiz);
      const eventId = randomUUID();
      // No answer key yet: retried until Dapr gives up and dead-letters it.
      await expect(evaluation.deliver('quiz.completed', attempt, eventId)).resolves.toBe('RETRY');
      await expect(evaluation.deliver('quiz.completed.deadletter', attempt, eventId)).resolves.toBe('SUCCESS');
      const listed = deadLetterListSchema
        .parse((await api().get('/api/v1/admin/dead-letters').query({ topic: 'quiz.completed' }).set(admin)).body)
        .items.find((d) => d.eventId === eventId);
      if (!listed) throw new Error('the dead letter is not listed');

      // The fix: quiz.published arrives; the admin replays the dead letter through the sidecar.
      await expect(evaluation.deliver('quiz.published', quiz.published)).resolves.toBe('SUCCESS');
      const replay = await api().post(`/api/v1/admin/dead-letters/${listed.id}/replay`).set(admin);
      expect(replay.status).toBe(200);
      expect(deadLetterReplayResultSchema.parse(replay.body)).toEqual({
        id: listed.id,
        eventId,
        topic: 'quiz.completed',
        outcome: 'replayed',
      });

      await eventually(
        async () => (await evaluation.prisma.result.count({ where: { attemptId: attempt.attemptId } })) === 1,
      );
      await eventually(() => publishedFor('score.calculated', (d) => d.attemptId === attempt.attemptId).length > 0);
      // Scored under the original event id, so a second copy of it would be a duplicate.
      expect(await evaluation.prisma.processedEvent.count({ where: { consumer: SCORING_CONSUMER, eventId } })).toBe(1);
      const after = await api().get('/api/v1/admin/dead-letters').query({ topic: 'quiz.completed' }).set(admin);
      expect(deadLetterListSchema.parse(after.body).items.map((d) => d.id)).not.toContain(listed.id);
      // A retried replay answers as the first did and runs nothing again (decision 0780): the dead
      // letter is kept as resolved, with one replay in its history.
      const again = await api().post(`/api/v1/admin/dead-letters/${listed.id}/replay`).set(admin);
      expect(again.status).toBe(200);
      expect(deadLetterReplayResultSchema.parse(again.body)).toEqual(deadLetterReplayResultSchema.parse(replay.body));
      const resolved = deadLetterListSchema
        .parse(
          (
            await api()
              .get('/api/v1/admin/dead-letters')
              .query({ topic: 'quiz.completed', status: 'resolved' })
              .set(admin)
          ).body,
        )
        .items.find((d) => d.id === listed.id);
      expect(resolved).toMatchObject({ status: 'resolved', resolution: 'replayed' });
      expect(resolved?.history.filter((h) => h.what === 'replayed')).toHaveLength(1);
      expect(await evaluation.prisma.processedEvent.count({ where: { consumer: SCORING_CONSUMER, eventId } })).toBe(1);
    });
  });
}
