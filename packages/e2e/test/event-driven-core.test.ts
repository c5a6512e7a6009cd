/**
 * Issue 5, "Event-driven core", end to end through the gateway, on the embedded defaults and on
 * real PostgreSQL + Redis + RabbitMQ: an author publishes a quiz, three players submit
 * attempts, and every effect of the event flow
 *   quiz.published → evaluation (answer keys)
 *   quiz.completed → evaluation → score.calculated → identity (stats), quiz (SCORED), notification (result)
 *                              → leaderboard.updated → gateway (SSE), quiz (cached top)
 *   user.registered → notification (welcome), evaluation (display names)
 *   user.renamed → evaluation (display names) → leaderboard.updated → quiz (cached top), gateway (SSE)
 * becomes visible through the public API. Every wait is `eventually` (bounded, names what is missing).
 */
import { leaderboardUpdatedV1, notificationCreated } from '@quizmesh/contracts/events';
import { leaderboardPageSchema } from '@quizmesh/contracts/evaluation-api';
import { userProfileSchema } from '@quizmesh/contracts/identity-api';
import { notificationListSchema } from '@quizmesh/contracts/notification-api';
import { playerQuizSchema } from '@quizmesh/contracts/quiz-api';
import type { Backends } from '@quizmesh/launcher';
import {
  SseClient,
  createCast,
  eventually,
  missing,
  quizBody,
  scoreOf,
  startE2EPlatform,
  type Account,
  type AuthorQuiz,
  type E2EPlatform,
  type SseEvent,
} from '../src';

/** the stream's `leaderboard` payload: version 1, one per board (decision 1070) */
const leaderboardEventSchema = leaderboardUpdatedV1.schema;
const notificationEventSchema = notificationCreated.schema;

/**
 * `local+chart`: real backends, and every sidecar loads the Components, Subscriptions, Resiliency
 * and its Configuration rendered from the Helm chart (hosts and Secrets mapped onto this machine),
 * so the chart's own Dapr resources carry the whole flow, the per-pod broadcast component included.
 */
const variants: Array<[string, Backends, 'components' | 'chart']> = [
  ['embedded', 'embedded', 'components'],
  ['local', 'local', 'components'],
  ['local+chart', 'local', 'chart'],
];

describe.each(variants)('event-driven core on %s backends', (_name, backends, daprResources) => {
  let e2e: E2EPlatform;
  let quiz: AuthorQuiz;
  let best: Account; // all right, first to finish
  let tied: Account; // all right, a second later: ranks below `best`
  let low: Account; // one right
  const attempts = new Map<string, string>(); // player id → attempt id
  let stream: SseClient | undefined;
  let streamError: unknown;

  beforeAll(async () => {
    e2e = await startE2EPlatform({ backends, daprResources });
    const { gateway } = e2e;
    const cast = await createCast(gateway, 3);
    [best, low, tied] = cast.players as [Account, Account, Account];
    quiz = await gateway.publishQuiz(cast.author, quizBody('The event-driven core'));
    try {
      stream = await SseClient.connect(`${e2e.platform.gatewayUrl}/api/v1/stream`, best.token);
    } catch (err) {
      streamError = err; // reported by the stream test; the others do not need it
    }

    const first = await gateway.play(best, quiz, quiz.questions.length);
    attempts.set(best.id, first.attemptId);
    attempts.set(low.id, (await gateway.play(low, quiz, 1)).attemptId);
    // Ties are broken by the earlier finish, to the second: the tie must finish in a later second.
    const nextSecond = Math.floor(Date.parse(first.submittedAt) / 1000 + 1) * 1000;
    await eventually('the clock to pass the first finish by a second', async () => {
      if (Date.now() < nextSecond + 50) throw missing(`now ${Date.now()} < ${nextSecond + 50}`);
    });
    attempts.set(tied.id, (await gateway.play(tied, quiz, quiz.questions.length)).attemptId);
  }, 300_000);

  afterAll(async () => {
    stream?.close();
    await e2e?.stop();
  }, 120_000);

  const attemptOf = (player: Account) => attempts.get(player.id) ?? '';

  if (daprResources === 'chart') {
    it("runs on the chart's Dapr resources: the gateway's sidecar has the broadcast component and its Subscriptions", async () => {
      const gateway = e2e.platform.endpoints.gateway;
      const metadata = (await (
        await fetch(`http://127.0.0.1:${String(gateway?.sidecarPort)}/v1.0/metadata`, {
          headers: { 'dapr-api-token': gateway?.daprApiToken ?? '' },
        })
      ).json()) as {
        components: Array<{ name: string; type: string }>;
        subscriptions: Array<{ pubsubname: string; topic: string; deadLetterTopic: string }>;
      };
      expect(metadata.components.map((c) => `${c.name}: ${c.type}`).sort()).toEqual([
        'pubsub-broadcast: pubsub.rabbitmq',
        'pubsub: pubsub.rabbitmq',
        'secretstore: secretstores.local.file',
        // token revocations are kept in the state store (decision 0731)
        'statestore: state.redis',
      ]);
      expect(metadata.subscriptions).toContainEqual(
        expect.objectContaining({
          pubsubname: 'pubsub-broadcast',
          topic: 'leaderboard.updated',
          deadLetterTopic: 'leaderboard.updated.deadletter',
        }),
      );
    });
  }

  it('ranks the players on the quiz board and the global board: higher score first, a tie by the earlier finish', async () => {
    const max = scoreOf(quiz, quiz.questions.length);
    const expected = [
      { userId: best.id, rank: 1, score: max, displayName: best.displayName },
      { userId: tied.id, rank: 2, score: max, displayName: tied.displayName },
      { userId: low.id, rank: 3, score: scoreOf(quiz, 1), displayName: low.displayName },
    ];
    for (const board of [`quiz/${quiz.id}`, 'global']) {
      const page = await eventually(`all three players on the ${board} board`, async () => {
        const found = await e2e.gateway.leaderboard(low, board);
        if (found.totalPlayers < 3) throw missing(`${found.totalPlayers} of 3 players ranked`);
        return found;
      });
      expect(
        page.entries.map(({ userId, rank, score, displayName }) => ({ userId, rank, score, displayName })),
      ).toEqual(expected);
    }
    const own = await e2e.gateway.rank(low, `quiz/${quiz.id}`, low.id);
    expect(own.player).toMatchObject({ rank: 3, userId: low.id });
  });

  it('moves each attempt to SCORED with the score evaluation calculated, once', async () => {
    for (const [player, correct] of [
      [best, quiz.questions.length],
      [low, 1],
      [tied, quiz.questions.length],
    ] as const) {
      const attempt = await eventually(`attempt of ${player.displayName} SCORED`, async () => {
        const found = await e2e.gateway.attempt(player, attemptOf(player));
        if (found.status !== 'SCORED') throw missing(`status ${found.status}`);
        return found;
      });
      expect(attempt.score).toMatchObject({
        score: scoreOf(quiz, correct),
        maxScore: scoreOf(quiz, quiz.questions.length),
      });
      const result = await e2e.gateway.result(player, attemptOf(player));
      expect(result).toMatchObject({ attemptId: attemptOf(player), score: scoreOf(quiz, correct), quizId: quiz.id });
    }
    const rows = await e2e.query<{ count: string }>('evaluation', 'select count(*)::text as count from "Result"');
    expect(rows[0]?.count).toBe('3');
  });

  it("updates each player's profile stats in identity from score.calculated", async () => {
    for (const [player, percent] of [
      [best, 100],
      [low, Math.round((scoreOf(quiz, 1) / scoreOf(quiz, quiz.questions.length)) * 10_000) / 100],
    ] as const) {
      const stats = await eventually(`${player.displayName}'s stats`, async () => {
        const { stats: found } = await e2e.gateway.profile(player);
        if (found.attempts < 1) throw missing('no attempt counted yet');
        return found;
      });
      expect(stats).toMatchObject({ attempts: 1, bestScorePercent: percent });
      expect(stats.lastPlayedAt).not.toBeNull();
    }
  });

  it("puts the welcome and the result message in each player's inbox", async () => {
    for (const player of [best, low, tied]) {
      const inbox = await eventually(`${player.displayName}'s welcome and result messages`, async () => {
        const found = await e2e.gateway.expect(200, notificationListSchema, 'GET', '/api/v1/notifications', {
          token: player.token,
        });
        const kinds = found.items.map((i) => i.kind);
        if (!kinds.includes('welcome') || !kinds.includes('result')) throw missing(`inbox has [${kinds.join(', ')}]`);
        return found;
      });
      expect(inbox.items.filter((i) => i.kind === 'welcome')).toHaveLength(1);
      const results = inbox.items.filter((i) => i.kind === 'result');
      expect(results.map((r) => ({ attemptId: r.attemptId, quizId: r.quizId }))).toEqual([
        { attemptId: attemptOf(player), quizId: quiz.id },
      ]);
    }
  });

  it("streams the leaderboard change and only the player's own notification over SSE", async () => {
    if (!stream) throw streamError instanceof Error ? streamError : new Error(`no stream: ${String(streamError)}`);
    const onQuizBoard = (e: SseEvent) => {
      if (e.event !== 'leaderboard') return false;
      const parsed = leaderboardEventSchema.safeParse(e.data);
      return parsed.success && parsed.data.board === 'quiz' && parsed.data.top.some((t) => t.userId === best.id);
    };
    const change = await stream.next(onQuizBoard, `a leaderboard event of quiz ${quiz.id} ranking the player`);
    expect(leaderboardEventSchema.parse(change.data)).toMatchObject({ quizId: quiz.id });
    // One leaderboard.updated named the three boards the scoring raised: one SSE event each, its id
    // the CloudEvent id and the board.
    const eventId = change.id?.slice(0, change.id.indexOf('/'));
    expect(change.id).toBe(`${eventId}/quiz:${quiz.id}`);
    const boardsOfChange = await eventually('the three boards of that change on the stream', async () => {
      const boards = stream?.events
        .filter((e) => e.event === 'leaderboard' && e.id?.startsWith(`${eventId}/`))
        .map((e) => leaderboardEventSchema.parse(e.data).board);
      if (boards?.length !== 3) throw missing(`boards [${boards?.join(', ')}]`);
      return boards;
    });
    expect(boardsOfChange).toEqual(['global', 'quiz', 'weekly']);
    const own = await stream.next(
      (e) => e.event === 'notification' && notificationEventSchema.safeParse(e.data).data?.kind === 'result',
      "the player's result notification",
    );
    expect(notificationEventSchema.parse(own.data).userId).toBe(best.id);
    // The other players' notifications never reach this player's stream.
    const recipients = stream.events
      .filter((e) => e.event === 'notification')
      .map((e) => notificationEventSchema.parse(e.data).userId);
    expect(new Set(recipients)).toEqual(new Set([best.id]));
  });

  // Last: it changes a display name the tests above compare.
  it('renames a player on every board, the quiz page and the live stream after a display-name change (user.renamed)', async () => {
    const { gateway } = e2e;
    const renamed = `${low.displayName} renamed`;
    await gateway.expect(200, userProfileSchema, 'PATCH', '/api/v1/users/me', {
      token: low.token,
      body: { displayName: renamed },
    });
    // identity → user.renamed → evaluation (Player) → leaderboard.updated → quiz (snapshot), gateway (stream)
    for (const board of [`quiz/${quiz.id}`, 'global', 'weekly/current']) {
      await eventually(`the new name on the ${board} board`, async () => {
        const page = await gateway.expect(200, leaderboardPageSchema, 'GET', `/api/v1/leaderboards/${board}?limit=100`);
        const entry = page.entries.find((e) => e.userId === low.id);
        if (entry?.displayName !== renamed) throw missing(`${board}: ${String(entry?.displayName)}`);
      });
    }
    await eventually("the new name in the quiz page's top 10", async () => {
      const page = await gateway.expect(200, playerQuizSchema, 'GET', `/api/v1/quizzes/${quiz.id}`);
      const entry = page.leaderboard?.top.find((e) => e.userId === low.id);
      if (entry?.displayName !== renamed) throw missing(`quiz page: ${String(entry?.displayName)}`);
    });
    if (!stream) throw streamError instanceof Error ? streamError : new Error(`no stream: ${String(streamError)}`);
    await stream.next((e) => {
      const parsed = leaderboardEventSchema.safeParse(e.data);
      return parsed.success && parsed.data.top.some((t) => t.userId === low.id && t.displayName === renamed);
    }, 'a leaderboard event with the new name');
  });
});
