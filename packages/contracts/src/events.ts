/**
 * Event contracts of the platform (ARCHITECTURE.md "Events"): one definition per topic with
 * its CloudEvent `type`, dead-letter topic and zod schema of `data`. Publishers validate
 * before writing to their outbox, consumers validate on delivery (the platform's
 * Subscriptions drop a non-matching message to the dead-letter topic).
 *
 * Versioning: every payload carries `schemaVersion`. Additive, optional fields keep the
 * version (consumers strip unknown keys, so older consumers keep working). A breaking change
 * adds a new version with a new CloudEvent type (`…v2`) on the same topic; consumers accept
 * both (a discriminated union on `schemaVersion`) until every publisher has moved.
 */
import { z } from 'zod';

export const EVENT_TYPE_PREFIX = 'dev.quizmesh';
/** The Dapr pub/sub component every service publishes to and subscribes from. */
export const PUBSUB_NAME = 'pubsub';

export interface EventContract<S extends z.ZodType = z.ZodType> {
  /** the Dapr topic */
  topic: string;
  /** where Dapr puts messages the consumer could not handle (see components/common Subscriptions) */
  deadLetterTopic: string;
  /** CloudEvent `type`, e.g. `dev.quizmesh.user.registered.v1` */
  type: string;
  schemaVersion: number;
  /** app id of the one publisher */
  publisher: string;
  /** schema of the CloudEvent's `data` */
  schema: S;
}

export const deadLetterTopicOf = (topic: string) => `${topic}.deadletter`;
export const eventTypeOf = (topic: string, schemaVersion: number) => `${EVENT_TYPE_PREFIX}.${topic}.v${schemaVersion}`;

function defineEvent<S extends z.ZodType>(options: {
  topic: string;
  schemaVersion: number;
  publisher: string;
  schema: S;
}): EventContract<S> {
  return {
    topic: options.topic,
    deadLetterTopic: deadLetterTopicOf(options.topic),
    type: eventTypeOf(options.topic, options.schemaVersion),
    schemaVersion: options.schemaVersion,
    publisher: options.publisher,
    schema: options.schema,
  };
}

// Shared field shapes: ids are UUIDs, times are RFC 3339 UTC strings (what JSON carries).
const id = z.uuid();
const timestamp = z.iso.datetime({ offset: true });
export const roleSchema = z.enum(['player', 'author', 'admin']);

export const TOPICS = {
  userRegistered: 'user.registered',
  quizPublished: 'quiz.published',
  quizCompleted: 'quiz.completed',
  scoreCalculated: 'score.calculated',
  leaderboardUpdated: 'leaderboard.updated',
  attemptFailed: 'attempt.failed',
  notificationCreated: 'notification.created',
  tokensRevoked: 'tokens.revoked',
  userRenamed: 'user.renamed',
  quizViewChanged: 'quiz.view.changed',
} as const;

/** identity → evaluation (stats record), notification (welcome message) */
export const userRegistered = defineEvent({
  topic: TOPICS.userRegistered,
  schemaVersion: 1,
  publisher: 'identity',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      userId: id,
      /** normalised (trimmed, NFC, lower-case) */
      email: z.email(),
      displayName: z.string().min(1).max(200),
      roles: z.array(roleSchema).min(1),
      registeredAt: timestamp,
    })
    .meta({ id: 'UserRegisteredV1', description: 'A new account exists.' }),
});

/**
 * identity → evaluation (renames the player on the leaderboards). Published in the transaction
 * that changes a public profile field; carries the profile as it now is, so the latest
 * `changedAt` wins whatever order deliveries arrive in.
 */
export const userRenamed = defineEvent({
  topic: TOPICS.userRenamed,
  schemaVersion: 1,
  publisher: 'identity',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      userId: id,
      displayName: z.string().min(1).max(200),
      /** when the change was committed: a consumer keeps the profile with the latest */
      changedAt: timestamp,
    })
    .meta({ id: 'UserRenamedV1', description: "A user's display name changed." }),
});

/** The answer-key shape of one question in quiz.published (quiz's question types). */
export const questionTypeSchema = z.enum(['single', 'multiple']);
export const difficultySchema = z.enum(['easy', 'medium', 'hard']);

/**
 * quiz → evaluation. Carries the answer keys, so evaluation keeps its own copy per quiz
 * version and scores attempts while quiz is down. Attempts name the exact version they played.
 */
export const quizPublished = defineEvent({
  topic: TOPICS.quizPublished,
  schemaVersion: 1,
  publisher: 'quiz',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      quizId: id,
      /** increases with every publication of the same quiz */
      version: z.number().int().positive(),
      /** the version this one replaces as the playable one (attempts of it stay scoreable) */
      supersedesVersion: z.number().int().positive().optional(),
      authorId: id,
      title: z.string().min(1),
      difficulty: difficultySchema,
      /** seconds a player has; quiz.completed says whether a submission came later (`late`) */
      timeLimitSeconds: z.number().int().positive(),
      questionCount: z.number().int().nonnegative(),
      /** the sum of the questions' points */
      maxScore: z.number().int().positive(),
      questions: z
        .array(
          z.object({
            questionId: id,
            /** single: exactly one correct option; multiple: one or more */
            type: questionTypeSchema,
            points: z.number().int().positive(),
            /** every option of the question, in display order */
            optionIds: z.array(id).min(2).max(10),
            correctOptionIds: z.array(id).min(1).max(10),
          }),
        )
        .min(1),
      publishedAt: timestamp,
    })
    .superRefine((e, ctx) => {
      if (e.questionCount !== e.questions.length) {
        ctx.addIssue({ code: 'custom', path: ['questionCount'], message: 'must equal the number of questions' });
      }
      if (e.maxScore !== e.questions.reduce((sum, q) => sum + q.points, 0)) {
        ctx.addIssue({ code: 'custom', path: ['maxScore'], message: "must equal the sum of the questions' points" });
      }
      e.questions.forEach((q, i) => {
        if (!q.correctOptionIds.every((o) => q.optionIds.includes(o))) {
          ctx.addIssue({
            code: 'custom',
            path: ['questions', i, 'correctOptionIds'],
            message: 'must be options of the question',
          });
        }
        if (q.type === 'single' && q.correctOptionIds.length !== 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['questions', i, 'correctOptionIds'],
            message: 'a single-choice question has exactly one',
          });
        }
      });
    })
    .meta({ id: 'QuizPublishedV1', description: 'A quiz version became playable; carries its answer keys.' }),
});

/**
 * quiz → evaluation (score the attempt). Scoring rules agreed with evaluation (docs/events.md):
 * a question earns its points when the chosen options equal its correct options exactly (no
 * partial credit within a question); an unanswered question earns 0; a `late` attempt is scored
 * 0 with its answers kept for the record.
 */
export const quizCompleted = defineEvent({
  topic: TOPICS.quizCompleted,
  schemaVersion: 1,
  publisher: 'quiz',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      attemptId: id,
      quizId: id,
      /** the exact version played: its answer keys came with that version's quiz.published */
      quizVersion: z.number().int().positive(),
      userId: id,
      /** one entry per answered question; an omitted question was not answered */
      answers: z.array(z.object({ questionId: id, optionIds: z.array(id).max(10) })),
      startedAt: timestamp,
      submittedAt: timestamp,
      /** startedAt + the version's time limit */
      deadlineAt: timestamp,
      /** submitted after the deadline plus quiz's grace period: scored 0 */
      late: z.boolean(),
    })
    .meta({ id: 'QuizCompletedV1', description: 'A player submitted an attempt.' }),
});

/** evaluation → identity (profile stats), quiz (attempt state), notification (result message) */
export const scoreCalculated = defineEvent({
  topic: TOPICS.scoreCalculated,
  schemaVersion: 1,
  publisher: 'evaluation',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      attemptId: id,
      quizId: id,
      /** the quiz version the attempt played (optional: added after v1 shipped) */
      quizVersion: z.number().int().positive().optional(),
      userId: id,
      /** points scored (whole points under the rules in quiz.completed; 0 for a late attempt) */
      score: z.number().nonnegative(),
      maxScore: z.number().positive(),
      correctCount: z.number().int().nonnegative(),
      questionCount: z.number().int().positive(),
      /** when the player submitted the attempt */
      finishedAt: timestamp,
      /** when evaluation scored it */
      calculatedAt: timestamp,
      /** submitted after the deadline: scored 0 and kept off the leaderboards */
      late: z.boolean().optional(),
      /** the title of the version played, for messages (optional: added after v1 shipped) */
      quizTitle: z.string().min(1).max(200).optional(),
      /**
       * each question of the version and what it earned (optional: added after v1 shipped); quiz
       * keeps it for the player's review, so the scoring rules stay evaluation's alone
       */
      questions: z
        .array(
          z.object({
            questionId: id,
            /** the chosen options equal the correct ones (also for a late attempt, which earns 0) */
            correct: z.boolean(),
            pointsAwarded: z.number().int().nonnegative(),
          }),
        )
        .max(500)
        .optional(),
    })
    .refine((e) => e.score <= e.maxScore, { path: ['score'], message: 'score exceeds maxScore' })
    .refine((e) => e.correctCount <= e.questionCount, {
      path: ['correctCount'],
      message: 'correctCount exceeds questionCount',
    })
    .meta({ id: 'ScoreCalculatedV1', description: 'An attempt has been scored (exactly one per attempt).' }),
});

/** The fields that describe one board and its top, in every version of leaderboard.updated. */
const leaderboardBoardFields = {
  board: z.enum(['global', 'quiz', 'weekly']),
  /** set for board = quiz */
  quizId: id.optional(),
  /** ISO week such as 2026-W47 for board = weekly */
  period: z
    .string()
    .regex(/^\d{4}-W\d{2}$/)
    .optional(),
  /** best attempt per player; equal scores: the earlier finish ranks higher (docs/events.md) */
  top: z
    .array(
      z.object({
        rank: z.number().int().positive(),
        userId: id,
        /** from user.registered; absent when evaluation has not seen the player's registration */
        displayName: z.string().optional(),
        score: z.number(),
        finishedAt: timestamp.optional(),
      }),
    )
    .max(100),
};

/**
 * Version 1 of leaderboard.updated: one event per board. Evaluation no longer publishes it
 * (decision 1070); consumers still accept it from an evaluation pod of the previous release
 * during a rolling update, and it stays the payload of the live stream's `leaderboard` event
 * (the gateway sends one per board of a version-2 event).
 */
export const leaderboardUpdatedV1 = defineEvent({
  topic: TOPICS.leaderboardUpdated,
  schemaVersion: 1,
  publisher: 'evaluation',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      ...leaderboardBoardFields,
      updatedAt: timestamp,
    })
    .meta({ id: 'LeaderboardUpdatedV1', description: 'The top of a leaderboard changed.' }),
});

/** Boards one leaderboard.updated names at most: a rename in many tops is announced in several events. */
export const LEADERBOARD_UPDATED_MAX_BOARDS = 50;

/** What tells two boards apart: the kind, and the quiz or the week. */
export const leaderboardBoardKeyOf = (b: {
  board: string;
  quizId?: string | undefined;
  period?: string | undefined;
}) => (b.board === 'quiz' ? `quiz:${b.quizId?.toLowerCase()}` : b.board === 'weekly' ? `weekly:${b.period}` : b.board);

/**
 * evaluation → quiz (the quiz boards' tops shown with the quizzes, cache invalidation), gateway
 * (live push, one SSE `leaderboard` event per board). One event per change (a scoring, a
 * rename), naming every board whose top it changed, each board once (decision 1070).
 */
export const leaderboardUpdated = defineEvent({
  topic: TOPICS.leaderboardUpdated,
  schemaVersion: 2,
  publisher: 'evaluation',
  schema: z
    .object({
      schemaVersion: z.literal(2),
      boards: z
        .array(
          z.object(leaderboardBoardFields).superRefine((b, ctx) => {
            if (b.board === 'quiz' && b.quizId === undefined) {
              ctx.addIssue({ code: 'custom', path: ['quizId'], message: 'a quiz board names its quiz' });
            }
            if (b.board === 'weekly' && b.period === undefined) {
              ctx.addIssue({ code: 'custom', path: ['period'], message: 'a weekly board names its week' });
            }
          }),
        )
        .min(1)
        .max(LEADERBOARD_UPDATED_MAX_BOARDS),
      /** when the change was committed; the same for every board of the event */
      updatedAt: timestamp,
    })
    .superRefine((e, ctx) => {
      const seen = new Set<string>();
      e.boards.forEach((b, i) => {
        const key = leaderboardBoardKeyOf(b);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['boards', i], message: `board ${key} named twice` });
        seen.add(key);
      });
    })
    .meta({ id: 'LeaderboardUpdatedV2', description: 'The tops of one or more leaderboards changed.' }),
});

/**
 * What consumers of leaderboard.updated validate deliveries against: either version, until no
 * evaluation pod of a release before decision 1070 can be running.
 */
export const leaderboardUpdatedV1OrV2 = z.discriminatedUnion('schemaVersion', [
  leaderboardUpdatedV1.schema,
  leaderboardUpdated.schema,
]);

/**
 * One version-1 payload per board of a delivered leaderboard.updated (a version-1 event is its
 * own only board): what the live stream sends, and what quiz and the gateway act on.
 */
export function leaderboardBoardUpdatesOf(event: LeaderboardUpdatedV1OrV2): LeaderboardUpdatedV1[] {
  if (event.schemaVersion === 1) return [event];
  return event.boards.map((b) => ({ schemaVersion: 1, ...b, updatedAt: event.updatedAt }));
}

/** quiz → notification (compensation: the attempt's quiz.completed was dead-lettered, it will not be scored) */
export const attemptFailed = defineEvent({
  topic: TOPICS.attemptFailed,
  schemaVersion: 1,
  publisher: 'quiz',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      attemptId: id,
      quizId: id,
      quizVersion: z.number().int().positive(),
      /** for the player's message */
      quizTitle: z.string().min(1),
      userId: id,
      reason: z.string().min(1).max(500),
      submittedAt: timestamp,
      failedAt: timestamp,
    })
    .meta({ id: 'AttemptFailedV1', description: 'An attempt could not be scored and was abandoned.' }),
});

/**
 * notification → gateway (live push to the user's open streams, `GET /api/v1/stream`). Published
 * once a notification is stored in the user's inbox; the push is best effort (the inbox is the
 * record), so every gateway replica consumes it and writes it to that user's streams only.
 */
export const notificationCreated = defineEvent({
  topic: TOPICS.notificationCreated,
  schemaVersion: 1,
  publisher: 'notification',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      notificationId: id,
      /** the recipient: only this user's streams receive it */
      userId: id,
      kind: z.enum(['welcome', 'result', 'attempt-failed']),
      title: z.string().min(1),
      /** plain text */
      body: z.string(),
      createdAt: timestamp,
    })
    .meta({ id: 'NotificationCreatedV1', description: "A notification was added to a user's inbox." }),
});

/**
 * identity → gateway (every replica). Access tokens are stateless JWTs valid until `exp`; this
 * tells the gateway that tokens of `userId` issued before `notBefore` (their `iat`) are no longer
 * accepted: after a logout, the revocation of a refresh-token family (reuse detected), or a
 * password change. The gateway keeps the latest `notBefore` per user in its state store.
 */
export const tokensRevoked = defineEvent({
  topic: TOPICS.tokensRevoked,
  schemaVersion: 1,
  publisher: 'identity',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      userId: id,
      /** tokens with an earlier `iat` are refused (JWT `iat` has second precision) */
      notBefore: timestamp,
      reason: z.enum(['logout', 'logout-all', 'family-revoked', 'password-changed']),
    })
    .meta({ id: 'TokensRevokedV1', description: 'Access tokens of a user issued before a time are revoked.' }),
});

/**
 * quiz → quiz and gateway (every replica). The player view of a quiz changed: a version was
 * published or the quiz archived. Each quiz replica drops its in-process copy of the view, so a
 * change made through one replica is not served stale by another (decision 0900), and each
 * gateway replica the copy it keeps (decision 1000). Leaderboard snapshots, the other change to
 * a view, reach every replica through leaderboard.updated itself.
 */
export const quizViewChanged = defineEvent({
  topic: TOPICS.quizViewChanged,
  schemaVersion: 1,
  publisher: 'quiz',
  schema: z
    .object({
      schemaVersion: z.literal(1),
      quizId: id,
      /** the versions whose cached views are no longer right (the playable one before and after) */
      versions: z.array(z.number().int().min(1)).max(2),
      reason: z.enum(['published', 'archived']),
    })
    .meta({ id: 'QuizViewChangedV1', description: "A quiz's player view changed (published or archived)." }),
});

export const EVENTS = [
  userRegistered,
  quizPublished,
  quizCompleted,
  scoreCalculated,
  leaderboardUpdated,
  attemptFailed,
  notificationCreated,
  tokensRevoked,
  userRenamed,
  quizViewChanged,
] as const;

export type UserRegistered = z.infer<typeof userRegistered.schema>;
export type QuizPublished = z.infer<typeof quizPublished.schema>;
export type QuizCompleted = z.infer<typeof quizCompleted.schema>;
export type ScoreCalculated = z.infer<typeof scoreCalculated.schema>;
export type LeaderboardUpdatedV1 = z.infer<typeof leaderboardUpdatedV1.schema>;
export type LeaderboardUpdated = z.infer<typeof leaderboardUpdated.schema>;
export type LeaderboardUpdatedV1OrV2 = z.infer<typeof leaderboardUpdatedV1OrV2>;
export type AttemptFailed = z.infer<typeof attemptFailed.schema>;
export type NotificationCreated = z.infer<typeof notificationCreated.schema>;
export type TokensRevoked = z.infer<typeof tokensRevoked.schema>;
export type UserRenamed = z.infer<typeof userRenamed.schema>;
export type QuizViewChanged = z.infer<typeof quizViewChanged.schema>;
export type EventData<C extends EventContract> = z.infer<C['schema']>;
