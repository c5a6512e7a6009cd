/**
 * The quiz and evaluation services as the operator calls them: Dapr service invocation through its
 * own sidecar (the callee's sidecar asserts `dapr-caller-app-id: operator`), naming the resource in
 * MANAGED_BY_HEADER. The operator never sends a user's headers.
 */
import { DaprCallError, HttpMethod, type Dapr } from '@quizmesh/platform';
import { authorQuizSchema, type AuthorQuiz, type CreateQuizRequest } from '@quizmesh/contracts/quiz-api';
import { leaderboardPageSchema } from '@quizmesh/contracts/evaluation-api';
import { MANAGED_BY_HEADER, operatorPaths } from '@quizmesh/contracts/quiz-resource';

export interface QuizStats {
  players: number;
  topScore: number | undefined;
}

export interface QuizClient {
  /** idempotent per resource: the resource's existing quiz (latest version) if it has one */
  createManaged(resource: string, content: CreateQuizRequest): Promise<AuthorQuiz>;
  replace(resource: string, quizId: string, content: CreateQuizRequest): Promise<AuthorQuiz>;
  publish(resource: string, quizId: string): Promise<AuthorQuiz>;
  /** idempotent; a quiz that no longer exists counts as archived */
  archive(resource: string, quizId: string): Promise<void>;
  stats(quizId: string): Promise<QuizStats>;
}

export class DaprQuizClient implements QuizClient {
  constructor(
    private readonly dapr: Dapr,
    private readonly appIds: { quiz: string; evaluation: string },
  ) {}

  private async call(resource: string, method: string, verb: HttpMethod, body?: object): Promise<AuthorQuiz> {
    const answer = await this.dapr.invoke<unknown>(this.appIds.quiz, method, verb, body, {
      [MANAGED_BY_HEADER]: resource,
    });
    return authorQuizSchema.parse(answer);
  }

  createManaged(resource: string, content: CreateQuizRequest): Promise<AuthorQuiz> {
    return this.call(resource, operatorPaths.create(), HttpMethod.POST, content);
  }

  replace(resource: string, quizId: string, content: CreateQuizRequest): Promise<AuthorQuiz> {
    return this.call(resource, operatorPaths.replace(quizId), HttpMethod.PUT, content);
  }

  publish(resource: string, quizId: string): Promise<AuthorQuiz> {
    return this.call(resource, operatorPaths.publish(quizId), HttpMethod.POST);
  }

  async archive(resource: string, quizId: string): Promise<void> {
    try {
      await this.dapr.invoke(this.appIds.quiz, operatorPaths.archive(quizId), HttpMethod.POST, undefined, {
        [MANAGED_BY_HEADER]: resource,
      });
    } catch (err) {
      if (err instanceof DaprCallError && err.answeredByCallee(404)) return;
      throw err;
    }
  }

  async stats(quizId: string): Promise<QuizStats> {
    const page = leaderboardPageSchema.parse(
      await this.dapr.invoke<unknown>(this.appIds.evaluation, `${operatorPaths.quizLeaderboard(quizId)}?limit=1`),
    );
    return { players: page.totalPlayers, topScore: page.entries[0]?.score };
  }
}
