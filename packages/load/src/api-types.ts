/** The answers the load generator reads, typed from the contracts the gateway documents (types only). */
import type { Attempt, CreateQuizRequest, PlayerQuiz, QuizList } from '@quizmesh/contracts/quiz-api';

export type { CreateQuizRequest, PlayerQuiz, QuizList };

/** `POST /api/v1/quizzes/{id}/attempts` (startAttemptResponseSchema) */
export interface StartAttemptResponse {
  attempt: Attempt;
  quiz: PlayerQuiz;
}
