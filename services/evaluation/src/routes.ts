/**
 * Evaluation's HTTP API (schemas: @quizmesh/contracts/evaluation-api). Every route needs a user
 * forwarded by the gateway (defence in depth: the gateway checks the token too); results are
 * readable by their player or an admin. Paths come from the registry (mounted by operation id);
 * `GET /api/leaderboard` is a seed alias of the global board.
 */
import type { Express, Request, RequestHandler } from 'express';
import {
  AppError,
  mountOperations,
  parseParams,
  parseQuery,
  requireSelfOrAdmin,
  requireUser,
  trustedServiceCaller,
} from '@quizmesh/platform';
import { evaluationApp } from '@quizmesh/contracts/registry';
import {
  aroundQuerySchema,
  attemptIdParamsSchema,
  leaderboardQuerySchema,
  quizBoardParamsSchema,
  resultsQuerySchema,
  seedUserIdParamsSchema,
  userIdParamsSchema,
  weeklyBoardParamsSchema,
} from '@quizmesh/contracts/evaluation-api';
import type { BoardRef } from './board-score';
import type { Leaderboards } from './boards';
import type { Results } from './results';

export interface RouteDeps {
  leaderboards: Leaderboards;
  results: Results;
  /** APP_API_TOKEN, which a trusted service caller must present (as the gateway must) */
  appApiToken?: string | undefined;
}

/** Services that read per-quiz leaderboards for themselves, not for a user: the operator (Quiz status). */
const BOARD_READER_APPS = ['operator'];

/** The three boards' operations share their handlers; only how the board is named differs. */
const BOARDS: Array<{ name: 'Global' | 'Quiz' | 'Weekly'; ref(req: Request): BoardRef }> = [
  { name: 'Global', ref: () => ({ kind: 'global' }) },
  {
    name: 'Quiz',
    ref: (req) => ({ kind: 'quiz', quizId: parseParams(req, quizBoardParamsSchema.loose()).quizId }),
  },
  {
    name: 'Weekly',
    ref: (req) => ({ kind: 'weekly', isoWeek: parseParams(req, weeklyBoardParamsSchema.loose()).isoWeek }),
  },
];

export function mountRoutes(app: Express, deps: RouteDeps): void {
  const { leaderboards, results } = deps;

  const boardHandlers = Object.fromEntries(
    BOARDS.flatMap((board): Array<[string, RequestHandler]> => [
      [
        `get${board.name}Leaderboard`,
        async (req, res) => {
          const serviceReader =
            board.name === 'Quiz' && trustedServiceCaller(req, BOARD_READER_APPS, deps.appApiToken) !== undefined;
          if (!serviceReader) requireUser(req);
          const ref = board.ref(req);
          const { limit, offset } = parseQuery(req, leaderboardQuerySchema);
          res.json(await leaderboards.page(ref, offset, limit));
        },
      ],
      [
        `get${board.name}LeaderboardRank`,
        async (req, res) => {
          requireUser(req);
          const ref = board.ref(req);
          const { userId } = parseParams(req, userIdParamsSchema.loose());
          const { around } = parseQuery(req, aroundQuerySchema);
          const rank = await leaderboards.rank(ref, userId, around);
          if (!rank) throw AppError.notFound('this player has no ranked attempt on this leaderboard');
          res.json(rank);
        },
      ],
    ]),
  );

  mountOperations(app, evaluationApp, {
    ...boardHandlers,
    listUserResults: async (req, res) => {
      const { userId } = parseParams(req, userIdParamsSchema);
      requireSelfOrAdmin(req, userId);
      const { limit, cursor } = parseQuery(req, resultsQuerySchema);
      res.json(await results.list(userId, limit, cursor));
    },
    getUserStatistics: async (req, res) => {
      const { userId } = parseParams(req, userIdParamsSchema);
      requireSelfOrAdmin(req, userId);
      res.json(await results.statistics(userId));
    },
    getResult: async (req, res) => {
      const user = requireUser(req);
      const { attemptId } = parseParams(req, attemptIdParamsSchema);
      const result = await results.get(attemptId);
      if (!result) throw AppError.notFound('no result for this attempt (not submitted, or not scored yet)');
      if (result.userId !== user.id && !user.roles.includes('admin')) throw AppError.forbidden('not your result');
      res.json(result);
    },
    // The seed path names its parameter `id`.
    listUserResultsSeed: async (req, res) => {
      const { id } = parseParams(req, seedUserIdParamsSchema);
      requireSelfOrAdmin(req, id);
      const { limit, cursor } = parseQuery(req, resultsQuerySchema);
      res.json(await results.list(id, limit, cursor));
    },
    // Scores are computed here from submitted attempts; a client-reported score is never taken.
    submitResultSeed: () => {
      throw new AppError(410, {
        code: 'results-submit-retired',
        detail:
          'results are no longer submitted: submit the attempt to quiz (POST /api/v1/attempts/{attemptId}/submit) ' +
          'and read the score at GET /api/v1/results/{attemptId}',
      });
    },
  });
}
