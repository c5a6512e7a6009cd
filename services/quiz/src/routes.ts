/** The quiz HTTP API (contracts: @quizmesh/contracts/quiz-api). */
import type { Express, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  AppError,
  SHARED_CACHE_HEADER,
  ifNoneMatchHas,
  mountOperations,
  parseBody,
  parseParams,
  parseQuery,
  requireRole,
  requireSelfOrAdmin,
  requireUser,
  trustedServiceCaller,
  requestTraceContext,
  type CallerUser,
} from '@quizmesh/platform';
import { MANAGED_BY_HEADER, OPERATOR_AUTHOR_ID } from '@quizmesh/contracts/quiz-resource';
import { quizPublished } from '@quizmesh/contracts/events';
import type { EnqueueOptions, OutboxRelay } from '@quizmesh/platform/outbox';
import { quizApp } from '@quizmesh/contracts/registry';
import {
  attemptIdParamsSchema,
  createQuizRequestSchema,
  listQuizzesQuerySchema,
  quizIdParamsSchema,
  quizPublishedRead,
  quizVersionParamsSchema,
  replaceQuizRequestSchema,
  submitAttemptRequestSchema,
  updateQuizRequestSchema,
  type AttemptHistory,
} from '@quizmesh/contracts/quiz-api';
import { reviewAttempt, startAttempt, submitAttempt, visibleAttempt } from './attempts';
import { invalidatePlayerViews, shareView, type PlayerViewCache, type QuizCache, type RenderedView } from './cache';
import type { PrismaClient } from './db';
import { listQuizzes } from './listing';
import {
  archiveQuiz,
  createManagedQuiz,
  createQuiz,
  editDraft,
  etagOf,
  patched,
  playableVersion,
  publishDraft,
  publishedVersionData,
  type QuizActor,
  type QuizContent,
} from './quizzes';
import { toAttemptView, toAuthorQuiz, toPlayerQuiz, toSummary } from './views';

export interface QuizDeps {
  prisma: PrismaClient;
  /** the player views in the state store, shared by the replicas */
  cache: QuizCache;
  /** the player views rendered in this process, in front of `cache` (decision 0900) */
  views: PlayerViewCache;
  logger: Logger;
  /** a submission later than deadline + grace is late */
  graceSeconds: number;
  /** woken after a commit that enqueued events; absent in tests that publish by hand */
  relay?: Pick<OutboxRelay, 'wake'> | undefined;
  /** APP_API_TOKEN: a trusted service caller (the operator) must present it, as the gateway must */
  appApiToken?: string | undefined;
  /** app ids that may manage quizzes for a Quiz resource (MANAGED_BY_HEADER) */
  managerAppIds?: readonly string[];
}

const uuid = z.uuid();

/** The gateway's user, whose id (a JWT `sub` from identity) must be a UUID to own quizzes and attempts. */
function caller(req: Request): CallerUser {
  const user = requireUser(req);
  if (!uuid.safeParse(user.id).success) throw AppError.unauthorized('the forwarded user id is not a UUID');
  return user;
}

function optionalCaller(req: Request): CallerUser | undefined {
  return req.user && uuid.safeParse(req.user.id).success ? req.user : undefined;
}

function author(req: Request): CallerUser {
  caller(req);
  return requireRole(req, 'author', 'admin');
}

const MANAGED_BY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

/**
 * The operator, acting for the Quiz resource it names, or undefined for everyone else (the header
 * is ignored unless the caller is a trusted manager app). Its quizzes have a fixed author id.
 */
function managerActor(req: Request, deps: QuizDeps): Required<QuizActor> | undefined {
  const app = trustedServiceCaller(req, deps.managerAppIds ?? ['operator'], deps.appApiToken);
  const managedBy = req.header(MANAGED_BY_HEADER);
  if (app === undefined || managedBy === undefined) return undefined;
  if (managedBy.length > 317 || !MANAGED_BY.test(managedBy)) {
    throw AppError.badRequest(`${MANAGED_BY_HEADER} must be <namespace>/<name>`, [
      { field: MANAGED_BY_HEADER, message: 'must be <namespace>/<name> of a Quiz resource' },
    ]);
  }
  return { user: { id: OPERATOR_AUTHOR_ID, roles: ['author'] }, managedBy };
}

const trace = (req: Request): EnqueueOptions => requestTraceContext(req);
const quizPath = (id: string) => `/api/v1/quizzes/${id}`;
const attemptPath = (id: string) => `/api/v1/attempts/${id}`;

/**
 * A rendered player view as is: `ETag` (304 when If-None-Match has it) and the bytes, written
 * without Express's res.send, which would hash them again for its own ETag. `no-cache`: clients
 * may keep it, but ask again (cheaply, with the ETag) before using it.
 */
function sendView(req: Request, res: Response, view: RenderedView): void {
  res.setHeader('etag', view.etag);
  res.setHeader('cache-control', 'no-cache');
  // The same bytes for every caller: the gateway may keep a view this process keeps, as long as
  // this process does, rounded up to a second (rounding down would leave a last second in which
  // no gateway keeps it; decision 1000). A view not kept (archived, a fill that raced a change)
  // is not marked.
  if (view.expiresAt !== undefined) {
    const seconds = Math.ceil((view.expiresAt - Date.now()) / 1000);
    if (seconds > 0) res.setHeader(SHARED_CACHE_HEADER, `max-age=${seconds}`);
  }
  if (ifNoneMatchHas(req.headers['if-none-match'], view.etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(view.body);
}

export function mountQuizRoutes(app: Express, deps: QuizDeps): void {
  const { prisma, cache, views } = deps;

  const list: RequestHandler = async (req, res) => {
    const query = parseQuery(req, listQuizzesQuerySchema);
    res.json(await listQuizzes(prisma, query, optionalCaller(req)));
  };

  /** A user (author or admin), or the operator for its resource. */
  const actor = (req: Request): QuizActor => managerActor(req, deps) ?? { user: author(req) };

  const create: RequestHandler = async (req, res) => {
    const manager = managerActor(req, deps);
    if (manager) {
      const body = parseBody(req, createQuizRequestSchema);
      const { quiz, version, created } = await createManagedQuiz(prisma, manager, body);
      res
        .status(created ? 201 : 200)
        .location(quizPath(quiz.id))
        .setHeader('etag', etagOf(version))
        .json(toAuthorQuiz(quiz, version));
      return;
    }
    const user = author(req);
    const body = parseBody(req, createQuizRequestSchema);
    const { quiz, version } = await createQuiz(prisma, user, body);
    res.status(201).location(quizPath(quiz.id)).setHeader('etag', etagOf(version)).json(toAuthorQuiz(quiz, version));
  };

  /**
   * The playable version: this process's rendered view, else the state store's, else the
   * database's (the truth). A hit costs a map lookup: the id as sent is the key (only valid
   * ids were ever stored), and the bytes and ETag were made when the view was filled.
   */
  const getOne: RequestHandler = async (req, res) => {
    const hit = views.get(String(req.params.id));
    if (hit) {
      sendView(req, res, hit);
      return;
    }
    const { id } = parseParams(req, quizIdParamsSchema);
    const token = views.startFill();
    const cached = await cache.get(id, 'current');
    if (cached) {
      sendView(req, res, views.fill(cached, token));
      return;
    }
    const found = await playableVersion(prisma, id);
    if (!found) throw AppError.notFound('no such quiz');
    const view = toPlayerQuiz(found.quiz, found.version);
    await shareView({ cache, views }, view, token);
    sendView(req, res, views.fill(view, token));
  };

  const edit =
    (change: (req: Request) => (current: QuizContent) => QuizContent): RequestHandler =>
    async (req, res) => {
      const who = actor(req);
      const { id } = parseParams(req, quizIdParamsSchema);
      const apply = change(req);
      const { quiz, version, created } = await editDraft(prisma, who, id, apply, req.header('if-match'));
      if (created) res.status(201).location(`${quizPath(id)}/versions/${version.version}`);
      res.setHeader('etag', etagOf(version)).json(toAuthorQuiz(quiz, version));
    };
  const replace = edit((req) => {
    const body = parseBody(req, replaceQuizRequestSchema);
    return () => body;
  });
  const update = edit((req) => patched(parseBody(req, updateQuizRequestSchema)));

  const publish: RequestHandler = async (req, res) => {
    const who = actor(req);
    const { id } = parseParams(req, quizIdParamsSchema);
    const publication = await publishDraft(prisma, who, id, trace(req), req.header('if-match'));
    // This replica's views go before the answer (read-your-writes); the others' with quiz.view.changed.
    await invalidatePlayerViews(deps, id, [publication.supersededVersion, publication.version.version]);
    deps.relay?.wake();
    res.setHeader('etag', etagOf(publication.version)).json(toAuthorQuiz(publication.quiz, publication.version));
  };

  const archive: RequestHandler = async (req, res) => {
    const who = actor(req);
    const { id } = parseParams(req, quizIdParamsSchema);
    const { quiz, version } = await archiveQuiz(prisma, who, id);
    await invalidatePlayerViews(deps, id, [quiz.publishedVersion]);
    deps.relay?.wake();
    res.json(toSummary(quiz, version));
  };

  async function managedQuiz(req: Request, id: string) {
    const user = caller(req);
    const quiz = await prisma.quiz.findUnique({ where: { id } });
    if (!quiz) throw AppError.notFound('no such quiz');
    requireSelfOrAdmin(req, quiz.authorId);
    return { user, quiz };
  }

  const versions: RequestHandler = async (req, res) => {
    const { id } = parseParams(req, quizIdParamsSchema);
    await managedQuiz(req, id);
    const rows = await prisma.quizVersion.findMany({ where: { quizId: id }, orderBy: { version: 'asc' } });
    res.json({
      items: rows.map((v) => ({
        version: v.version,
        status: v.status,
        title: v.title,
        questionCount: v.questionCount,
        createdAt: v.createdAt.toISOString(),
        publishedAt: v.publishedAt ? v.publishedAt.toISOString() : null,
      })),
    });
  };

  const oneVersion: RequestHandler = async (req, res) => {
    const { id, version } = parseParams(req, quizVersionParamsSchema);
    const { quiz } = await managedQuiz(req, id);
    const row = await prisma.quizVersion.findUnique({ where: { quizId_version: { quizId: id, version } } });
    if (!row) throw AppError.notFound(`quiz has no version ${version}`);
    res.setHeader('etag', etagOf(row)).json(toAuthorQuiz(quiz, row));
  };

  const start: RequestHandler = async (req, res) => {
    const user = caller(req);
    const { id } = parseParams(req, quizIdParamsSchema);
    const started = await startAttempt(prisma, user, id, { graceSeconds: deps.graceSeconds, trace: trace(req) });
    if (started.expiredAttemptId) deps.relay?.wake();
    res
      .status(started.created ? 201 : 200)
      .location(attemptPath(started.attempt.id))
      .json({ attempt: toAttemptView(started.attempt), quiz: toPlayerQuiz(started.quiz, started.version) });
  };

  const submit: RequestHandler = async (req, res) => {
    const user = caller(req);
    const { id } = parseParams(req, attemptIdParamsSchema);
    const body = parseBody(req, submitAttemptRequestSchema);
    const { attempt, accepted } = await submitAttempt(prisma, user, id, body, {
      graceSeconds: deps.graceSeconds,
      trace: trace(req),
    });
    if (accepted) deps.relay?.wake();
    const submittedAt = attempt.submittedAt ?? new Date();
    res
      .status(202)
      .location(attemptPath(id))
      .json({
        attemptId: id,
        status: attempt.status,
        late: attempt.late,
        submittedAt: submittedAt.toISOString(),
        statusUrl: attemptPath(id),
      });
  };

  const getAttempt: RequestHandler = async (req, res) => {
    const { id } = parseParams(req, attemptIdParamsSchema);
    res.json(toAttemptView(await visibleAttempt(prisma, caller(req), id)));
  };

  const review: RequestHandler = async (req, res) => {
    const { id } = parseParams(req, attemptIdParamsSchema);
    res.json(await reviewAttempt(prisma, caller(req), id));
  };

  const history: RequestHandler = async (req, res) => {
    const { id } = parseParams(req, attemptIdParamsSchema);
    await visibleAttempt(prisma, caller(req), id);
    const rows = await prisma.attemptTransition.findMany({ where: { attemptId: id }, orderBy: { id: 'asc' } });
    const body: AttemptHistory = {
      attemptId: id,
      items: rows.map((t) => ({
        from: t.fromStatus,
        to: t.toStatus,
        reason: t.reason,
        at: t.at.toISOString(),
        eventId: t.eventId,
      })),
    };
    res.json(body);
  };

  /**
   * Internal, for evaluation only (Dapr access control lets no other app call it; this checks the
   * caller again): the quiz.published data of a published version, read when evaluation has no
   * answer key for it (decision 1080).
   */
  const quizPublishedOfVersion: RequestHandler = async (req, res) => {
    if (trustedServiceCaller(req, [quizPublishedRead.callerAppId], deps.appApiToken) === undefined) {
      throw AppError.forbidden(`only ${quizPublishedRead.callerAppId} may read a version's quiz.published`);
    }
    const { id, version } = parseParams(req, quizVersionParamsSchema);
    const data = await publishedVersionData(prisma, id, version);
    if (!data) throw AppError.notFound(`quiz ${id} has no published version ${version}`);
    res.json(quizPublished.schema.parse(data));
  };
  app.get(quizPublishedRead.route, quizPublishedOfVersion);

  mountOperations(app, quizApp, {
    listQuizzes: list,
    createQuiz: create,
    getQuiz: getOne,
    replaceQuizDraft: replace,
    updateQuizDraft: update,
    publishQuiz: publish,
    archiveQuiz: archive,
    listQuizVersions: versions,
    getQuizVersion: oneVersion,
    startAttempt: start,
    submitAttempt: submit,
    getAttempt,
    getAttemptReview: review,
    getAttemptHistory: history,
  });
}
