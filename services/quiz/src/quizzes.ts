/**
 * The quiz lifecycle: draft → published → archived, with immutable published versions.
 * Every change runs in one transaction under the quiz's row lock (lockQuiz), and a
 * publication writes its quiz.published event into the outbox in that same transaction.
 */
import { randomUUID } from 'node:crypto';
import { AppError, type CallerUser } from '@quizmesh/platform';
import { enqueue, type EnqueueOptions } from '@quizmesh/platform/outbox';
import { quizPublished, quizViewChanged, type QuizPublished } from '@quizmesh/contracts/events';
import {
  quizHeaderOf,
  type AuthorQuestion,
  type CreateQuizRequest,
  type QuestionInput,
  type UpdateQuizRequest,
} from '@quizmesh/contracts/quiz-api';
import { databaseNow, lockQuiz, type PrismaClient, type Quiz, type QuizVersion, type Tx } from './db';
import { storedQuestions } from './views';

export type QuizContent = CreateQuizRequest;

export interface QuizWithVersion {
  quiz: Quiz;
  version: QuizVersion;
}

/** Authors manage their own quizzes; admins manage every quiz. */
export function canManage(user: CallerUser, quiz: Pick<Quiz, 'authorId'>): boolean {
  return user.roles.includes('admin') || (user.roles.includes('author') && quiz.authorId === user.id);
}

function assertCanManage(user: CallerUser, quiz: Pick<Quiz, 'authorId'>): void {
  if (!canManage(user, quiz)) throw AppError.forbidden("only the quiz's author or an admin may change it");
}

/**
 * A quiz reconciled from a Quiz resource changes only through the operator (which names the
 * resource in `managedBy`); anyone else gets 409 naming the resource to change instead.
 */
function assertManagement(quiz: Pick<Quiz, 'managedBy'>, managedBy: string | undefined): void {
  if (quiz.managedBy === null || quiz.managedBy === managedBy) return;
  const [namespace, name] = quiz.managedBy.split('/');
  throw new AppError(409, {
    code: 'quiz-managed-by-resource',
    detail: `this quiz is managed by the Quiz resource ${quiz.managedBy}; change the resource instead (kubectl edit quiz ${name ?? ''} -n ${namespace ?? ''}, or its YAML file)`,
  });
}

/** Who changes a quiz: a user, or the operator acting for the resource `managedBy`. */
export interface QuizActor {
  user: CallerUser;
  managedBy?: string | undefined;
}

/**
 * The entity tag of a version's content: its number and last change (milliseconds). Edits of
 * one quiz are serialised by its row lock and each takes several round trips, so two edits never
 * share a millisecond.
 */
export function etagOf(version: Pick<QuizVersion, 'version' | 'updatedAt'>): string {
  return `"${version.version}.${version.updatedAt.getTime()}"`;
}

/**
 * If-Match (RFC 9110 13.1.1): when given, the change applies only to the content the caller last
 * read; otherwise two authors' edits would silently overwrite each other.
 */
function assertCurrent(ifMatch: string | undefined, base: Pick<QuizVersion, 'version' | 'updatedAt'>): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const current = etagOf(base);
  if (!ifMatch.split(',').some((tag) => tag.trim() === current)) {
    throw new AppError(412, {
      code: 'stale-version',
      detail: `the quiz changed since you read it (current ETag ${current}); reload it and apply your change again`,
    });
  }
}

/** Server ids for questions and options that come without one (kept ones round-trip). */
function withIds(questions: QuestionInput[]): AuthorQuestion[] {
  return questions.map((q) => ({
    id: q.id ?? randomUUID(),
    type: q.type,
    text: q.text,
    points: q.points,
    explanation: q.explanation === undefined || q.explanation === '' ? null : q.explanation,
    options: q.options.map((o) => ({ id: o.id ?? randomUUID(), text: o.text, correct: o.correct })),
  }));
}

function versionData(content: QuizContent) {
  const questions = withIds(content.questions);
  return {
    ...quizHeaderOf(content),
    questions,
    questionCount: questions.length,
    maxScore: questions.reduce((sum, q) => sum + q.points, 0),
  };
}

/** A version's content in request form, the starting point of the next version's draft. */
function contentOf(version: QuizVersion): QuizContent {
  return {
    title: version.title,
    description: version.description,
    tags: version.tags,
    difficulty: version.difficulty,
    timeLimitSeconds: version.timeLimitSeconds,
    questions: storedQuestions(version).map((q) => ({
      id: q.id,
      type: q.type,
      text: q.text,
      points: q.points,
      ...(q.explanation === null ? {} : { explanation: q.explanation }),
      options: q.options,
    })),
  };
}

export async function createQuiz(
  prisma: PrismaClient,
  author: CallerUser,
  content: QuizContent,
  managedBy?: string,
): Promise<QuizWithVersion> {
  return prisma.$transaction(async (tx) => {
    const quiz = await tx.quiz.create({
      data: { authorId: author.id, latestVersion: 1, draftVersion: 1, ...(managedBy ? { managedBy } : {}) },
    });
    const version = await tx.quizVersion.create({ data: { quizId: quiz.id, version: 1, ...versionData(content) } });
    return { quiz, version };
  });
}

/**
 * The operator's create: idempotent per resource. If the resource already has a quiz (an earlier
 * create whose answer was lost), that quiz's latest version comes back instead (`created: false`);
 * the operator then compares it with the spec like any other reconcile.
 */
export async function createManagedQuiz(
  prisma: PrismaClient,
  actor: Required<QuizActor>,
  content: QuizContent,
): Promise<QuizWithVersion & { created: boolean }> {
  const existing = await prisma.quiz.findUnique({ where: { managedBy: actor.managedBy } });
  if (existing) {
    const version = await prisma.quizVersion.findUniqueOrThrow({
      where: { quizId_version: { quizId: existing.id, version: existing.draftVersion ?? existing.latestVersion } },
    });
    return { quiz: existing, version, created: false };
  }
  try {
    return { ...(await createQuiz(prisma, actor.user, content, actor.managedBy)), created: true };
  } catch (err) {
    // A concurrent create of the same resource won the unique index: answer with its quiz.
    if ((err as { code?: unknown }).code === 'P2002') return createManagedQuiz(prisma, actor, content);
    throw err;
  }
}

async function lockedQuiz(tx: Tx, quizId: string, mode: 'update' | 'share'): Promise<Quiz> {
  if (!(await lockQuiz(tx, quizId, mode))) throw AppError.notFound('no such quiz');
  return tx.quiz.findUniqueOrThrow({ where: { id: quizId } });
}

/** The quiz locked for an update by `actor`: theirs (or they are an admin), managed as they say. */
async function lockedToManage(tx: Tx, quizId: string, { user, managedBy }: QuizActor): Promise<Quiz> {
  const quiz = await lockedQuiz(tx, quizId, 'update');
  assertCanManage(user, quiz);
  assertManagement(quiz, managedBy);
  return quiz;
}

/** As lockedToManage, and not archived: an archived quiz cannot be changed. */
async function lockedToChange(tx: Tx, quizId: string, actor: QuizActor, action: 'edited' | 'published'): Promise<Quiz> {
  const quiz = await lockedToManage(tx, quizId, actor);
  if (quiz.status === 'archived')
    throw new AppError(409, { code: 'quiz-archived', detail: `an archived quiz cannot be ${action}` });
  return quiz;
}

async function versionOf(tx: Tx, quizId: string, version: number): Promise<QuizVersion> {
  return tx.quizVersion.findUniqueOrThrow({ where: { quizId_version: { quizId, version } } });
}

/**
 * Applies `change` to the quiz's draft. A published quiz without a draft gets one: the next
 * version, starting as a copy of the published one (which stays playable and unchanged).
 */
export async function editDraft(
  prisma: PrismaClient,
  actor: QuizActor,
  quizId: string,
  change: (current: QuizContent) => QuizContent,
  ifMatch?: string,
): Promise<QuizWithVersion & { created: boolean }> {
  return prisma.$transaction(async (tx) => {
    const quiz = await lockedToChange(tx, quizId, actor, 'edited');
    if (quiz.draftVersion !== null) {
      const draft = await versionOf(tx, quizId, quiz.draftVersion);
      assertCurrent(ifMatch, draft);
      const version = await tx.quizVersion.update({
        where: { id: draft.id },
        data: versionData(change(contentOf(draft))),
      });
      const touched = await tx.quiz.update({ where: { id: quizId }, data: { updatedAt: new Date() } });
      return { quiz: touched, version, created: false };
    }
    if (quiz.publishedVersion === null) throw new Error(`quiz ${quizId} has neither a draft nor a published version`);
    const published = await versionOf(tx, quizId, quiz.publishedVersion);
    assertCurrent(ifMatch, published);
    const next = quiz.latestVersion + 1;
    const version = await tx.quizVersion.create({
      data: { quizId, version: next, ...versionData(change(contentOf(published))) },
    });
    const updated = await tx.quiz.update({ where: { id: quizId }, data: { draftVersion: next, latestVersion: next } });
    return { quiz: updated, version, created: true };
  });
}

/** PATCH semantics: the fields given replace the current ones. */
export function patched(update: UpdateQuizRequest): (current: QuizContent) => QuizContent {
  return (current) => ({
    title: update.title ?? current.title,
    description: update.description ?? current.description,
    tags: update.tags ?? current.tags,
    difficulty: update.difficulty ?? current.difficulty,
    timeLimitSeconds: update.timeLimitSeconds ?? current.timeLimitSeconds,
    questions: update.questions ?? current.questions,
  });
}

export interface Publication extends QuizWithVersion {
  supersededVersion: number | null;
  eventId: string;
}

/**
 * Publishes the draft: it becomes the playable version, the previous one is superseded (its
 * attempts keep referencing it), and quiz.published with the answer keys enters the outbox.
 */
export async function publishDraft(
  prisma: PrismaClient,
  actor: QuizActor,
  quizId: string,
  trace: EnqueueOptions,
  ifMatch?: string,
): Promise<Publication> {
  return prisma.$transaction(async (tx) => {
    const quiz = await lockedToChange(tx, quizId, actor, 'published');
    if (quiz.draftVersion === null) {
      throw new AppError(409, {
        code: 'no-draft',
        detail: `version ${quiz.publishedVersion ?? '?'} is already published; edit the quiz to start a new version`,
      });
    }
    const draft = await versionOf(tx, quizId, quiz.draftVersion);
    assertCurrent(ifMatch, draft);
    const questions = storedQuestions(draft);
    if (questions.length === 0) {
      throw new AppError(422, {
        code: 'quiz-incomplete',
        detail: 'a quiz needs at least one question to be published',
        errors: [{ field: 'questions', message: 'must contain at least one question' }],
      });
    }
    const now = await databaseNow(tx);
    const supersededVersion = quiz.publishedVersion;
    if (supersededVersion !== null) {
      await tx.quizVersion.update({
        where: { quizId_version: { quizId, version: supersededVersion } },
        data: { status: 'superseded', supersededAt: now },
      });
    }
    const version = await tx.quizVersion.update({
      where: { id: draft.id },
      data: { status: 'published', publishedAt: now },
    });
    const eventId = await enqueue(tx, quizPublished, quizPublishedData(quiz, version, supersededVersion), trace);
    // Every replica drops its cached view of the quiz (decision 0900).
    await enqueue(
      tx,
      quizViewChanged,
      {
        schemaVersion: 1,
        quizId,
        versions: supersededVersion !== null ? [supersededVersion, version.version] : [version.version],
        reason: 'published',
      },
      trace,
    );
    // Last on purpose: a failure here must roll back the outbox row too (tested).
    const updated = await tx.quiz.update({
      where: { id: quizId },
      data: { status: 'published', publishedVersion: version.version, draftVersion: null },
    });
    return { quiz: updated, version, supersededVersion, eventId };
  });
}

/**
 * What quiz.published carries for a version: built from the rows, which never change once
 * published, so publishDraft's event and the internal read (publishedVersionData) are the same.
 */
function quizPublishedData(
  quiz: Pick<Quiz, 'id' | 'authorId'>,
  version: QuizVersion,
  supersededVersion: number | null,
): QuizPublished {
  if (!version.publishedAt) throw new Error(`version ${version.version} of quiz ${quiz.id} was never published`);
  const questions = storedQuestions(version);
  return {
    schemaVersion: 1,
    quizId: quiz.id,
    version: version.version,
    ...(supersededVersion !== null ? { supersedesVersion: supersededVersion } : {}),
    authorId: quiz.authorId,
    title: version.title,
    difficulty: version.difficulty,
    timeLimitSeconds: version.timeLimitSeconds,
    questionCount: questions.length,
    maxScore: version.maxScore,
    questions: questions.map((q) => ({
      questionId: q.id,
      type: q.type,
      points: q.points,
      optionIds: q.options.map((o) => o.id),
      correctOptionIds: q.options.filter((o) => o.correct).map((o) => o.id),
    })),
    publishedAt: version.publishedAt.toISOString(),
  };
}

/**
 * The quiz.published data of a published version (superseded and archived quizzes' included), or
 * undefined when the quiz or version does not exist or was never published. Versions are
 * published in increasing order, so the one it superseded is the latest published before it.
 */
export async function publishedVersionData(
  prisma: PrismaClient,
  quizId: string,
  version: number,
): Promise<QuizPublished | undefined> {
  const [quiz, row, previous] = await Promise.all([
    prisma.quiz.findUnique({ where: { id: quizId }, select: { id: true, authorId: true } }),
    prisma.quizVersion.findUnique({ where: { quizId_version: { quizId, version } } }),
    prisma.quizVersion.findFirst({
      where: { quizId, version: { lt: version }, publishedAt: { not: null } },
      orderBy: { version: 'desc' },
      select: { version: true },
    }),
  ]);
  if (!quiz || !row?.publishedAt) return undefined;
  return quizPublishedData(quiz, row, previous?.version ?? null);
}

/**
 * Archives a quiz: no new attempts, no edits. Idempotent. Open attempts may still be submitted.
 * The operator's archive (its resource was deleted) also releases `managedBy`, so a new resource of
 * the same name makes a new quiz; the archived one can no longer change anyway.
 */
export async function archiveQuiz(prisma: PrismaClient, actor: QuizActor, quizId: string): Promise<QuizWithVersion> {
  return prisma.$transaction(async (tx) => {
    const quiz = await lockedToManage(tx, quizId, actor);
    const shown = quiz.publishedVersion ?? quiz.latestVersion;
    if (quiz.status === 'archived') return { quiz, version: await versionOf(tx, quizId, shown) };
    const now = await databaseNow(tx);
    if (quiz.publishedVersion !== null) {
      await tx.quizVersion.update({
        where: { quizId_version: { quizId, version: quiz.publishedVersion } },
        data: { status: 'archived' },
      });
    }
    if (quiz.publishedVersion !== null) {
      // Players saw it: every replica drops its cached view (decision 0900).
      await enqueue(tx, quizViewChanged, {
        schemaVersion: 1,
        quizId,
        versions: [quiz.publishedVersion],
        reason: 'archived',
      });
    }
    const updated = await tx.quiz.update({
      where: { id: quizId },
      data: { status: 'archived', archivedAt: now, ...(actor.managedBy !== undefined ? { managedBy: null } : {}) },
    });
    return { quiz: updated, version: await versionOf(tx, quizId, shown) };
  });
}

/** The version players see: the published one (also once archived). Undefined if never published. */
export async function playableVersion(prisma: PrismaClient | Tx, quizId: string): Promise<QuizWithVersion | undefined> {
  const quiz = await prisma.quiz.findUnique({ where: { id: quizId } });
  if (!quiz || quiz.publishedVersion === null) return undefined;
  const version = await prisma.quizVersion.findUniqueOrThrow({
    where: { quizId_version: { quizId, version: quiz.publishedVersion } },
  });
  return { quiz, version };
}

export { lockedQuiz };
