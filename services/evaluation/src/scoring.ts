/**
 * Scoring rules (agreed in the quiz.completed contract, packages/contracts/src/events.ts):
 *  - a question earns its points when the chosen options equal its correct options exactly, as
 *    sets: single choice is one exact option; multiple choice is all-or-nothing (no partial
 *    credit: a partially right selection earns 0, so guessing every option never pays);
 *  - an unanswered question earns 0; a question answered by more than one entry earns 0 (the
 *    submission is ambiguous); answers to questions the key does not know are ignored;
 *  - a `late` attempt scores 0 (its answers are still checked and kept for the record) and is
 *    not ranked on leaderboards.
 * Pure functions: the consumer (attempts.ts) stores and publishes what this returns.
 */
import { z } from 'zod';
import { questionTypeSchema, type QuizCompleted, type QuizPublished } from '@quizmesh/contracts/events';

/** What evaluation keeps of one question of a published quiz version (AnswerKey.questions). */
export const keyedQuestionSchema = z.object({
  questionId: z.string(),
  type: questionTypeSchema,
  points: z.number().int().positive(),
  correctOptionIds: z.array(z.string()).min(1),
});
export type KeyedQuestion = z.infer<typeof keyedQuestionSchema>;
export const keyedQuestionsSchema = z.array(keyedQuestionSchema);

export interface QuestionOutcome {
  questionId: string;
  points: number;
  /** the options chosen (sorted), null when unanswered */
  chosen: string[] | null;
  correct: boolean;
  earned: number;
}

export interface Scored {
  score: number;
  maxScore: number;
  correctCount: number;
  questionCount: number;
  late: boolean;
  breakdown: QuestionOutcome[];
}

/** The answer key of a quiz.published event, ids lower-cased like everything evaluation stores. */
export function answerKeyOf(event: QuizPublished): KeyedQuestion[] {
  return event.questions.map((q) => ({
    questionId: q.questionId.toLowerCase(),
    type: q.type,
    points: q.points,
    correctOptionIds: [...new Set(q.correctOptionIds.map((o) => o.toLowerCase()))].sort(),
  }));
}

function sameSet(chosen: readonly string[], correct: readonly string[]): boolean {
  return chosen.length === correct.length && chosen.every((option, i) => option === correct[i]);
}

export function scoreAttempt(key: readonly KeyedQuestion[], attempt: Pick<QuizCompleted, 'answers' | 'late'>): Scored {
  const answersByQuestion = new Map<string, string[][]>();
  for (const answer of attempt.answers) {
    const questionId = answer.questionId.toLowerCase();
    const list = answersByQuestion.get(questionId) ?? [];
    list.push(answer.optionIds.map((o) => o.toLowerCase()));
    answersByQuestion.set(questionId, list);
  }
  const breakdown = key.map((question): QuestionOutcome => {
    const entries = answersByQuestion.get(question.questionId) ?? [];
    const only = entries.length === 1 ? entries[0] : undefined;
    const chosen = only ? [...new Set(only)].sort() : null;
    const correct = chosen !== null && sameSet(chosen, question.correctOptionIds);
    return {
      questionId: question.questionId,
      points: question.points,
      chosen: entries.length === 0 ? null : (chosen ?? []),
      correct,
      earned: correct && !attempt.late ? question.points : 0,
    };
  });
  return {
    score: breakdown.reduce((sum, q) => sum + q.earned, 0),
    maxScore: key.reduce((sum, q) => sum + q.points, 0),
    correctCount: attempt.late ? 0 : breakdown.filter((q) => q.correct).length,
    questionCount: key.length,
    late: attempt.late,
    breakdown,
  };
}
