/**
 * The evaluation HTTP API (results, player statistics, leaderboards): request and response
 * schemas, used by evaluation to validate requests and by the gateway to generate its OpenAPI
 * document. `evaluationOperations` lists every route with its schemas and who may call it;
 * `evaluationSeedAliases` maps the seed design's paths onto them.
 *
 * Leaderboards rank each player's best attempt (whole points); equal scores rank the earlier
 * finish (to the second) first, then the greater user id. See services/evaluation/README.md.
 */
import { z } from 'zod';
import type { ApiOperation } from './operations';
import { problemSchema } from './identity-api';

export { problemSchema };

export const LEADERBOARD_MAX_LIMIT = 100;
export const LEADERBOARD_DEFAULT_LIMIT = 10;
/** Deepest rank the top list pages to; deeper players are found with the rank lookup. */
export const LEADERBOARD_MAX_OFFSET = 10_000;
export const AROUND_MAX = 25;
export const AROUND_DEFAULT = 5;
export const RESULTS_MAX_LIMIT = 100;
export const RESULTS_DEFAULT_LIMIT = 20;

const timestamp = z.iso.datetime({ offset: true });
const uuid = (what: string) => z.uuid({ message: `must be a ${what} id (UUID)` }).toLowerCase();

/** `2026-W47`: ISO 8601 week-numbering year and week (weeks 53 exist only in long years). */
export const isoWeekSchema = z
  .string()
  .regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'must be an ISO week such as 2026-W47')
  .refine((value) => {
    const [year = 0, week = 0] = value.split('-W').map(Number);
    return week <= isoWeeksInYear(year);
  }, 'this year has no week 53')
  .meta({ description: 'ISO 8601 week (UTC) of the attempts ranked on a weekly board.', examples: ['2026-W47'] });

/** 52 or 53: a year is long when 1 January or 31 December is a Thursday. */
export function isoWeeksInYear(year: number): number {
  const thursday = (month: number, day: number) => new Date(Date.UTC(year, month, day)).getUTCDay() === 4;
  return thursday(0, 1) || thursday(11, 31) ? 53 : 52;
}

/** An integer query parameter in [min, max]; query strings carry text, so it is coerced. */
function intParam(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`)
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

// ------------------------------------------------------------------------------------ params

export const quizBoardParamsSchema = z.strictObject({ quizId: uuid('quiz') });
export const weeklyBoardParamsSchema = z.strictObject({ isoWeek: isoWeekSchema });
export const userIdParamsSchema = z.strictObject({ userId: uuid('user') });
export const attemptIdParamsSchema = z.strictObject({ attemptId: uuid('attempt') });
/** The seed path `/api/results/user/:id` names its parameter `id`. */
export const seedUserIdParamsSchema = z.strictObject({ id: uuid('user') });

// ------------------------------------------------------------------------------------- query

export const leaderboardQuerySchema = z
  .strictObject({
    limit: intParam(1, LEADERBOARD_MAX_LIMIT, LEADERBOARD_DEFAULT_LIMIT),
    offset: intParam(0, LEADERBOARD_MAX_OFFSET, 0),
  })
  .meta({ id: 'LeaderboardQuery' });

export const aroundQuerySchema = z
  .strictObject({ around: intParam(0, AROUND_MAX, AROUND_DEFAULT) })
  .meta({ id: 'PlayerRankQuery' });

export const resultsQuerySchema = z
  .strictObject({
    limit: intParam(1, RESULTS_MAX_LIMIT, RESULTS_DEFAULT_LIMIT),
    /** `nextCursor` of the previous page */
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the nextCursor of a previous page')
      .optional(),
  })
  .meta({ id: 'ResultsQuery' });

// --------------------------------------------------------------------------------- responses

export const boardKindSchema = z.enum(['global', 'quiz', 'weekly']);

export const boardSchema = z
  .object({
    kind: boardKindSchema,
    /** set for kind = quiz */
    quizId: z.uuid().optional(),
    /** set for kind = weekly */
    isoWeek: z.string().optional(),
  })
  .meta({ id: 'Leaderboard', description: 'Which board: global, one quiz, or one ISO week.' });

export const leaderboardEntrySchema = z
  .object({
    rank: z.number().int().positive(),
    userId: z.uuid(),
    /** null when evaluation has not seen the player's user.registered */
    displayName: z.string().nullable(),
    /** the player's best score on this board (points) */
    score: z.number().int().nonnegative(),
    /** when that best attempt was submitted (to the second) */
    finishedAt: timestamp,
  })
  .meta({ id: 'LeaderboardEntry' });

export const leaderboardPageSchema = z
  .object({
    board: boardSchema,
    /** players on the board */
    totalPlayers: z.number().int().nonnegative(),
    entries: z.array(leaderboardEntrySchema),
  })
  .meta({ id: 'LeaderboardPage', description: 'Best first: higher score, then earlier finish, then greater user id.' });

export const playerRankSchema = z
  .object({
    board: boardSchema,
    totalPlayers: z.number().int().nonnegative(),
    player: leaderboardEntrySchema,
    /** up to `around` entries above and below the player, the player included, best first */
    around: z.array(leaderboardEntrySchema),
  })
  .meta({ id: 'PlayerRank' });

export const resultSchema = z
  .object({
    attemptId: z.uuid(),
    quizId: z.uuid(),
    quizVersion: z.number().int().positive(),
    userId: z.uuid(),
    score: z.number().int().nonnegative(),
    maxScore: z.number().int().positive(),
    /** score / maxScore · 100, two decimals */
    percent: z.number().min(0).max(100),
    correctCount: z.number().int().nonnegative(),
    questionCount: z.number().int().positive(),
    /** submitted after the deadline: scored 0 and not ranked */
    late: z.boolean(),
    startedAt: timestamp,
    finishedAt: timestamp,
    calculatedAt: timestamp,
  })
  .meta({ id: 'Result', description: 'One scored attempt.' });

export const resultListSchema = z
  .object({ items: z.array(resultSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ResultList', description: 'Newest first; pass nextCursor to get the next page.' });

export const playerStatisticsSchema = z
  .object({
    userId: z.uuid(),
    attempts: z.number().int().nonnegative(),
    /** best and average score in points and in percent of the quiz's maximum; null before the first attempt */
    bestScore: z.number().int().nonnegative().nullable(),
    bestPercent: z.number().min(0).max(100).nullable(),
    averageScore: z.number().nonnegative().nullable(),
    averagePercent: z.number().min(0).max(100).nullable(),
    lateAttempts: z.number().int().nonnegative(),
    lastPlayedAt: timestamp.nullable(),
  })
  .meta({ id: 'PlayerStatistics', description: 'Over every scored attempt of the player, late ones included.' });

// -------------------------------------------------------------------------------- operations

export type { Access } from './operations';
export type EvaluationOperation = ApiOperation<'get' | 'post'>;

const boards = [
  { name: 'Global', path: '/api/v1/leaderboards/global', params: undefined, what: 'every quiz' },
  { name: 'Quiz', path: '/api/v1/leaderboards/quiz/{quizId}', params: quizBoardParamsSchema, what: 'one quiz' },
  {
    name: 'Weekly',
    path: '/api/v1/leaderboards/weekly/{isoWeek}',
    params: weeklyBoardParamsSchema,
    what: 'one ISO week',
  },
] as const;

export const evaluationOperations: readonly EvaluationOperation[] = [
  ...boards.flatMap(({ name, path, params, what }): EvaluationOperation[] => [
    {
      operationId: `get${name}Leaderboard`,
      method: 'get',
      path,
      summary: `Top players of ${what}`,
      access: 'user',
      ...(params ? { params } : {}),
      query: leaderboardQuerySchema,
      response: { status: 200, schema: leaderboardPageSchema },
      errors: [401],
    },
    {
      operationId: `get${name}LeaderboardRank`,
      method: 'get',
      path: `${path}/players/{userId}`,
      summary: `A player's rank on the board of ${what}, with the players around them`,
      access: 'user',
      params: params ? params.extend(userIdParamsSchema.shape) : userIdParamsSchema,
      query: aroundQuerySchema,
      response: { status: 200, schema: playerRankSchema },
      errors: [401, 404],
    },
  ]),
  {
    operationId: 'listUserResults',
    method: 'get',
    path: '/api/v1/results/users/{userId}',
    summary: "A player's results, newest first (self or admin)",
    access: 'user',
    params: userIdParamsSchema,
    query: resultsQuerySchema,
    response: { status: 200, schema: resultListSchema },
    errors: [401, 403],
  },
  {
    operationId: 'getUserStatistics',
    method: 'get',
    path: '/api/v1/results/users/{userId}/stats',
    summary: "A player's statistics (self or admin)",
    access: 'user',
    params: userIdParamsSchema,
    response: { status: 200, schema: playerStatisticsSchema },
    errors: [401, 403],
  },
  {
    operationId: 'getResult',
    method: 'get',
    path: '/api/v1/results/{attemptId}',
    summary: 'One scored attempt (its player or an admin)',
    access: 'user',
    params: attemptIdParamsSchema,
    response: { status: 200, schema: resultSchema },
    errors: [401, 403, 404],
  },
  {
    operationId: 'listUserResultsSeed',
    method: 'get',
    path: '/api/results/user/{id}',
    summary: "A player's results, newest first (self or admin)",
    access: 'user',
    params: seedUserIdParamsSchema,
    query: resultsQuerySchema,
    response: { status: 200, schema: resultListSchema },
    errors: [401, 403],
    deprecated: true,
    description: 'Seed-compatible alias of `GET /api/v1/results/users/{userId}`; new clients should use that.',
  },
  {
    operationId: 'submitResultSeed',
    method: 'post',
    path: '/api/results/submit',
    summary: 'Retired: results are computed from submitted attempts',
    access: 'user',
    response: { status: 410, schema: problemSchema },
    errors: [],
    deprecated: true,
    description:
      'Always 410 Gone. The seed design let clients post a score; scores are now computed by evaluation ' +
      'from the attempt the player submits to quiz (`POST /api/v1/attempts/{attemptId}/submit`), so a ' +
      'client-reported score is never accepted.',
  },
];

/**
 * Seed paths that are exact copies of an operation (the gateway's `seedAliases` documents them).
 * `GET /api/results/user/{id}` (another parameter name) and `POST /api/results/submit` are
 * listed in `evaluationOperations` themselves.
 */
export const evaluationSeedAliases = {
  'GET /api/leaderboard': 'GET /api/v1/leaderboards/global',
} as const;

export type Board = z.infer<typeof boardSchema>;
export type LeaderboardEntry = z.infer<typeof leaderboardEntrySchema>;
export type LeaderboardPage = z.infer<typeof leaderboardPageSchema>;
export type PlayerRank = z.infer<typeof playerRankSchema>;
export type Result = z.infer<typeof resultSchema>;
export type ResultList = z.infer<typeof resultListSchema>;
export type PlayerStatistics = z.infer<typeof playerStatisticsSchema>;
