/**
 * Evaluation's HTTP API (schemas: @quizmesh/contracts/evaluation-api). Leaderboard pages are
 * public; every other route needs a user forwarded by the gateway (defence in depth: the gateway
 * checks the token too); results are readable by their player or an admin. The seed design's
 * paths are served as aliases.
 */
import type { Express, Request } from 'express';
import { AppError, parseParams, parseQuery, requireSelfOrAdmin, requireUser } from '@quizmesh/platform';
import {
  CURRENT_WEEK,
  aroundQuerySchema,
  attemptIdParamsSchema,
  leaderboardQuerySchema,
  quizBoardParamsSchema,
  resultsQuerySchema,
  seedUserIdParamsSchema,
  userIdParamsSchema,
  weeklyBoardParamsSchema,
} from '@quizmesh/contracts/evaluation-api';
import { isoWeekOf, type BoardRef } from './board-score';
import type { Leaderboards } from './boards';
import type { Results } from './results';

export interface RouteDeps {
  leaderboards: Leaderboards;
  results: Results;
}

const BOARDS: Array<{ path: string; ref(req: Request): BoardRef }> = [
  { path: '/api/v1/leaderboards/global', ref: () => ({ kind: 'global' }) },
  {
    path: '/api/v1/leaderboards/quiz/:quizId',
    ref: (req) => ({ kind: 'quiz', quizId: parseParams(req, quizBoardParamsSchema.loose()).quizId }),
  },
  // Before `weekly/:isoWeek`, which would refuse `current` as an ISO week.
  {
    path: `/api/v1/leaderboards/weekly/${CURRENT_WEEK}`,
    ref: () => ({ kind: 'weekly', isoWeek: isoWeekOf(new Date()) }),
  },
  {
    path: '/api/v1/leaderboards/weekly/:isoWeek',
    ref: (req) => ({ kind: 'weekly', isoWeek: parseParams(req, weeklyBoardParamsSchema.loose()).isoWeek }),
  },
];

export function mountRoutes(app: Express, deps: RouteDeps): void {
  const { leaderboards, results } = deps;

  for (const board of BOARDS) {
    // Public through the gateway (like a quiz's top 10); the rank lookup below needs a user.
    app.get(board.path, async (req, res) => {
      const ref = board.ref(req);
      const { limit, offset } = parseQuery(req, leaderboardQuerySchema);
      res.json(await leaderboards.page(ref, offset, limit));
    });
    app.get(`${board.path}/players/:userId`, async (req, res) => {
      requireUser(req);
      const ref = board.ref(req);
      const { userId } = parseParams(req, userIdParamsSchema.loose());
      const { around } = parseQuery(req, aroundQuerySchema);
      const rank = await leaderboards.rank(ref, userId, around);
      if (!rank) throw AppError.notFound('this player has no ranked attempt on this leaderboard');
      res.json(rank);
    });
  }

  app.get('/api/v1/results/users/:userId', async (req, res) => {
    const { userId } = parseParams(req, userIdParamsSchema);
    requireSelfOrAdmin(req, userId);
    const { limit, cursor } = parseQuery(req, resultsQuerySchema);
    res.json(await results.list(userId, limit, cursor));
  });

  app.get('/api/v1/results/users/:userId/stats', async (req, res) => {
    const { userId } = parseParams(req, userIdParamsSchema);
    requireSelfOrAdmin(req, userId);
    res.json(await results.statistics(userId));
  });

  app.get('/api/v1/results/:attemptId', async (req, res) => {
    const user = requireUser(req);
    const { attemptId } = parseParams(req, attemptIdParamsSchema);
    const result = await results.get(attemptId);
    if (!result) throw AppError.notFound('no result for this attempt (not submitted, or not scored yet)');
    if (result.userId !== user.id && !user.roles.includes('admin')) throw AppError.forbidden('not your result');
    res.json(result);
  });

  // ------------------------------------------------------------------ seed-compatible paths

  app.get('/api/leaderboard', async (req, res) => {
    const { limit, offset } = parseQuery(req, leaderboardQuerySchema);
    res.json(await leaderboards.page({ kind: 'global' }, offset, limit));
  });

  app.get('/api/results/user/:id', async (req, res) => {
    const { id } = parseParams(req, seedUserIdParamsSchema);
    requireSelfOrAdmin(req, id);
    const { limit, cursor } = parseQuery(req, resultsQuerySchema);
    res.json(await results.list(id, limit, cursor));
  });

  // Scores are computed here from submitted attempts; a client-reported score is never taken.
  app.post('/api/results/submit', () => {
    throw new AppError(410, {
      code: 'results-submit-retired',
      detail:
        'results are no longer submitted: submit the attempt to quiz (POST /api/v1/attempts/{attemptId}/submit) ' +
        'and read the score at GET /api/v1/results/{attemptId}',
    });
  });
}
