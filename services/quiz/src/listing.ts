/**
 * List and search: keyset pagination over (Quiz.createdAt, Quiz.id), newest first, so a page
 * never repeats or skips a quiz while others are created. Text search is PostgreSQL full-text
 * search on the listed version's generated `searchVector` (GIN index), tags use the GIN index
 * on the tag array. Filters narrow the list; they do not change its order (decision 0503).
 */
import { AppError, decodeCursor, encodeCursor, type CallerUser } from '@quizmesh/platform';
import type { ListQuizzesQuery, QuizList } from '@quizmesh/contracts/quiz-api';
import { Prisma, type PrismaClient } from './db';
import { toSummary } from './views';

/** Which quizzes and which of their versions a status lists, and who may ask. */
function scope(query: ListQuizzesQuery, user: CallerUser | undefined): Prisma.Sql {
  if (query.status === 'published') {
    return Prisma.sql`q."status" = 'published' AND v."version" = q."publishedVersion"`;
  }
  if (!user) throw AppError.unauthorized(`listing ${query.status} quizzes needs a signed-in author or admin`);
  if (!user.roles.includes('author') && !user.roles.includes('admin')) {
    throw AppError.forbidden(`listing ${query.status} quizzes requires role author or admin`);
  }
  const owner = user.roles.includes('admin') ? Prisma.empty : Prisma.sql` AND q."authorId" = ${user.id}::uuid`;
  return query.status === 'draft'
    ? Prisma.sql`q."status" <> 'archived' AND v."version" = q."draftVersion"${owner}`
    : Prisma.sql`q."status" = 'archived' AND v."version" = COALESCE(q."publishedVersion", q."latestVersion")${owner}`;
}

export async function listQuizzes(
  prisma: PrismaClient,
  query: ListQuizzesQuery,
  user: CallerUser | undefined,
): Promise<QuizList> {
  const conditions: Prisma.Sql[] = [scope(query, user)];
  if (query.tag !== undefined) conditions.push(Prisma.sql`v."tags" @> ARRAY[${query.tag}]::text[]`);
  if (query.difficulty !== undefined) conditions.push(Prisma.sql`v."difficulty" = ${query.difficulty}::"Difficulty"`);
  if (query.q !== undefined)
    conditions.push(Prisma.sql`v."searchVector" @@ websearch_to_tsquery('english', ${query.q})`);
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    conditions.push(Prisma.sql`(q."createdAt", q."id") < (${after.at}::timestamptz, ${after.id}::uuid)`);
  }
  const rows = await prisma.$queryRaw<Array<{ versionId: string }>>`
    SELECT v."id" AS "versionId"
    FROM "Quiz" q JOIN "QuizVersion" v ON v."quizId" = q."id"
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY q."createdAt" DESC, q."id" DESC
    LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  // Summaries do not show questions: leave the largest column in the database.
  const versions = await prisma.quizVersion.findMany({
    where: { id: { in: page.map((r) => r.versionId) } },
    omit: { questions: true },
    include: { quiz: true },
  });
  const byId = new Map(versions.map((v) => [v.id, v]));
  const items = page.flatMap((row) => {
    const version = byId.get(row.versionId);
    return version ? [toSummary(version.quiz, version)] : [];
  });
  const last = page.at(-1) === undefined ? undefined : byId.get(page.at(-1)?.versionId ?? '');
  const nextCursor =
    rows.length > query.limit && last ? encodeCursor({ at: last.quiz.createdAt, id: last.quiz.id }) : null;
  return { items, nextCursor };
}
