/** How rows are shown: the AuthorQuiz, PlayerQuiz, QuizSummary and Attempt contracts. */
import { z } from 'zod';
import {
  authorQuestionSchema,
  leaderboardSnapshotSchema,
  quizHeaderOf,
  type Attempt as AttemptView,
  type AttemptReview,
  type AuthorQuestion,
  type AuthorQuiz,
  type LeaderboardSnapshot,
  type PlayerQuiz,
  type QuizSummary,
} from '@quizmesh/contracts/quiz-api';
import type { Attempt, Quiz, QuizVersion } from './db';

const storedQuestionsSchema = z.array(authorQuestionSchema);
const storedAnswersSchema = z.array(z.object({ questionId: z.uuid(), optionIds: z.array(z.uuid()) }));

export type QuizRow = Pick<
  Quiz,
  'id' | 'authorId' | 'status' | 'createdAt' | 'leaderboardTop' | 'leaderboardUpdatedAt'
>;
export type VersionRow = Omit<QuizVersion, 'quizId'>;

/** The questions of a version, answer keys included (validated: the column is JSON). */
export function storedQuestions(version: Pick<QuizVersion, 'questions'>): AuthorQuestion[] {
  return storedQuestionsSchema.parse(version.questions);
}

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** A version without its questions: what lists need. */
export type VersionSummaryRow = Omit<VersionRow, 'questions'>;

function summaryFields(quiz: QuizRow, version: VersionSummaryRow) {
  return {
    id: quiz.id,
    version: version.version,
    ...quizHeaderOf(version),
    questionCount: version.questionCount,
    maxScore: version.maxScore,
    authorId: quiz.authorId,
  };
}

export function toAuthorQuiz(quiz: QuizRow, version: VersionRow): AuthorQuiz {
  return {
    ...summaryFields(quiz, version),
    status: quiz.status,
    versionStatus: version.status,
    questions: storedQuestions(version),
    createdAt: iso(version.createdAt),
    updatedAt: iso(version.updatedAt),
    publishedAt: isoOrNull(version.publishedAt),
  };
}

export function toSummary(quiz: QuizRow, version: VersionSummaryRow): QuizSummary {
  return {
    ...summaryFields(quiz, version),
    status: quiz.status,
    versionStatus: version.status,
    createdAt: iso(quiz.createdAt),
    publishedAt: isoOrNull(version.publishedAt),
  };
}

function leaderboardOf(quiz: QuizRow): LeaderboardSnapshot | null {
  if (!quiz.leaderboardUpdatedAt) return null;
  const parsed = leaderboardSnapshotSchema.safeParse({
    top: quiz.leaderboardTop,
    updatedAt: iso(quiz.leaderboardUpdatedAt),
  });
  return parsed.success ? parsed.data : null;
}

/** The player view: every field is copied explicitly, so answer keys and explanations cannot slip in. */
export function toPlayerQuiz(quiz: QuizRow, version: VersionRow): PlayerQuiz {
  if (!version.publishedAt) throw new Error(`version ${version.version} of quiz ${quiz.id} was never published`);
  return {
    ...summaryFields(quiz, version),
    status: quiz.status,
    versionStatus: version.status,
    publishedAt: iso(version.publishedAt),
    questions: storedQuestions(version).map((q) => ({
      id: q.id,
      type: q.type,
      text: q.text,
      points: q.points,
      options: q.options.map((o) => ({ id: o.id, text: o.text })),
    })),
    leaderboard: leaderboardOf(quiz),
  };
}

export function toAttemptView(attempt: Attempt): AttemptView {
  return {
    id: attempt.id,
    quizId: attempt.quizId,
    quizVersion: attempt.version,
    userId: attempt.userId,
    status: attempt.status,
    startedAt: iso(attempt.startedAt),
    deadlineAt: iso(attempt.deadlineAt),
    submittedAt: isoOrNull(attempt.submittedAt),
    late: attempt.late,
    answers: attempt.answers === null ? null : storedAnswersSchema.parse(attempt.answers),
    score: scoreOf(attempt),
    failureReason: attempt.failureReason,
  };
}

/** The score of a SCORED attempt, or of an EXPIRED one once evaluation scored it; else null. */
function scoreOf(attempt: Attempt): AttemptView['score'] {
  const scored = attempt.status === 'SCORED' || attempt.status === 'EXPIRED';
  if (!scored || attempt.score === null || attempt.correctCount === null || !attempt.scoredAt) return null;
  return {
    score: attempt.score,
    maxScore: attempt.maxScore,
    correctCount: attempt.correctCount,
    questionCount: attempt.questionCount,
    scoredAt: iso(attempt.scoredAt),
  };
}

/** What each question earned, as score.calculated carried it (Attempt.questionResults). */
export const questionResultsSchema = z.array(
  z.object({ questionId: z.string(), correct: z.boolean(), pointsAwarded: z.number().int().nonnegative() }),
);

/**
 * The player's review of a scored attempt, or undefined while it cannot be shown: not scored
 * yet, or scored before score.calculated carried per-question results.
 */
export function toAttemptReview(
  attempt: Attempt,
  version: Pick<QuizVersion, 'questions' | 'title'>,
): AttemptReview | undefined {
  const score = scoreOf(attempt);
  const results = questionResultsSchema.safeParse(attempt.questionResults);
  if (!score || !results.success || (attempt.status !== 'SCORED' && attempt.status !== 'EXPIRED')) return undefined;
  const outcome = new Map(results.data.map((r) => [r.questionId.toLowerCase(), r]));
  const chosen = new Map(
    (attempt.answers === null ? [] : storedAnswersSchema.parse(attempt.answers)).map((a) => [
      a.questionId.toLowerCase(),
      a.optionIds,
    ]),
  );
  return {
    attemptId: attempt.id,
    quizId: attempt.quizId,
    quizVersion: attempt.version,
    title: version.title,
    status: attempt.status,
    late: attempt.late,
    score,
    questions: storedQuestions(version).map((q) => ({
      id: q.id,
      type: q.type,
      text: q.text,
      points: q.points,
      explanation: q.explanation,
      options: q.options.map((o) => ({ id: o.id, text: o.text, correct: o.correct })),
      selectedOptionIds: chosen.get(q.id.toLowerCase()) ?? [],
      correct: outcome.get(q.id.toLowerCase())?.correct ?? false,
      pointsAwarded: outcome.get(q.id.toLowerCase())?.pointsAwarded ?? 0,
    })),
  };
}
