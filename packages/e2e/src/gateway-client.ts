/**
 * The public API as a client sees it: every call goes through the gateway (`/api/v1/...`) with
 * the bearer token identity issued. Answers are parsed with the shared contracts, and an
 * unexpected status fails with the problem body the gateway returned.
 */
import type { z } from 'zod';
import { registerResponseSchema, tokenResponseSchema, userProfileSchema } from '@quizmesh/contracts/identity-api';
import {
  attemptAcceptedSchema,
  attemptSchema,
  authorQuizSchema,
  startAttemptResponseSchema,
} from '@quizmesh/contracts/quiz-api';
import { leaderboardPageSchema, playerRankSchema, resultSchema } from '@quizmesh/contracts/evaluation-api';

export const PASSWORD = 'correct horse battery staple';

export interface Account {
  id: string;
  email: string;
  displayName: string;
  token: string;
}

export type AuthorQuiz = z.infer<typeof authorQuizSchema>;
export type Answers = Array<{ questionId: string; optionIds: string[] }>;

export class UnexpectedStatusError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} answered ${status}: ${body.slice(0, 500)}`);
    this.name = 'UnexpectedStatusError';
  }
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export class GatewayClient {
  constructor(readonly baseUrl: string) {}

  call(method: string, path: string, { body, token, headers = {} }: CallOptions = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** Calls and parses the answer, which must have `status`. */
  async expect<S extends z.ZodType>(
    status: number,
    schema: S,
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<z.infer<S>> {
    const res = await this.call(method, path, options);
    const text = await res.text();
    if (res.status !== status) throw new UnexpectedStatusError(method, path, res.status, text);
    return schema.parse(text === '' ? undefined : JSON.parse(text));
  }

  async register(email: string, displayName: string): Promise<Account> {
    const { user, tokens } = await this.expect(201, registerResponseSchema, 'POST', '/api/v1/auth/register', {
      body: { email, displayName, password: PASSWORD },
    });
    return { id: user.id, email, displayName, token: tokens.accessToken };
  }

  async login(account: Account): Promise<Account> {
    const tokens = await this.expect(200, tokenResponseSchema, 'POST', '/api/v1/auth/login', {
      body: { email: account.email, password: PASSWORD },
    });
    return { ...account, token: tokens.accessToken };
  }

  /** An admin grants `author`; the account logs in again so its token carries the role. */
  async makeAuthor(admin: Account, account: Account): Promise<Account> {
    await this.expect(200, userProfileSchema, 'PUT', `/api/v1/admin/users/${account.id}/roles`, {
      token: admin.token,
      body: { roles: ['player', 'author'] },
    });
    return this.login(account);
  }

  profile(account: Account) {
    return this.expect(200, userProfileSchema, 'GET', '/api/v1/users/me', { token: account.token });
  }

  /** Creates a draft and publishes it; answers the published version with its answer keys. */
  async publishQuiz(author: Account, body: unknown): Promise<AuthorQuiz> {
    const draft = await this.expect(201, authorQuizSchema, 'POST', '/api/v1/quizzes', { token: author.token, body });
    return this.expect(200, authorQuizSchema, 'POST', `/api/v1/quizzes/${draft.id}/publish`, { token: author.token });
  }

  async startAttempt(player: Account, quizId: string) {
    const res = await this.call('POST', `/api/v1/quizzes/${quizId}/attempts`, { token: player.token });
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) {
      throw new UnexpectedStatusError('POST', `/api/v1/quizzes/${quizId}/attempts`, res.status, text);
    }
    return startAttemptResponseSchema.parse(JSON.parse(text)).attempt;
  }

  submit(player: Account, attemptId: string, answers: Answers) {
    return this.expect(202, attemptAcceptedSchema, 'POST', `/api/v1/attempts/${attemptId}/submit`, {
      token: player.token,
      body: { answers },
    });
  }

  /** Starts and submits one attempt. */
  async play(player: Account, quiz: AuthorQuiz, correctQuestions: number) {
    const attempt = await this.startAttempt(player, quiz.id);
    return this.submit(player, attempt.id, answersFor(quiz, correctQuestions));
  }

  attempt(player: Account, attemptId: string) {
    return this.expect(200, attemptSchema, 'GET', `/api/v1/attempts/${attemptId}`, { token: player.token });
  }

  result(player: Account, attemptId: string) {
    return this.expect(200, resultSchema, 'GET', `/api/v1/results/${attemptId}`, { token: player.token });
  }

  /** `board`: `global` or `quiz/<quizId>` */
  leaderboard(viewer: Account, board: string, limit = 10) {
    return this.expect(200, leaderboardPageSchema, 'GET', `/api/v1/leaderboards/${board}?limit=${limit}`, {
      token: viewer.token,
    });
  }

  rank(viewer: Account, board: string, userId: string) {
    return this.expect(200, playerRankSchema, 'GET', `/api/v1/leaderboards/${board}/players/${userId}`, {
      token: viewer.token,
    });
  }
}

/** Answers the first `correctQuestions` questions right and the rest wrong. */
export function answersFor(quiz: AuthorQuiz, correctQuestions: number): Answers {
  return quiz.questions.map((question, index) => {
    const pick =
      index < correctQuestions
        ? question.options.filter((o) => o.correct)
        : question.options.filter((o) => !o.correct).slice(0, 1);
    return { questionId: question.id, optionIds: pick.map((o) => o.id) };
  });
}

/** The points `answersFor(quiz, correctQuestions)` earns. */
export function scoreOf(quiz: AuthorQuiz, correctQuestions: number): number {
  return quiz.questions.slice(0, correctQuestions).reduce((sum, q) => sum + q.points, 0);
}

/** A quiz body of `questionCount` single-choice questions worth 1, 2, 3… points. */
export function quizBody(title: string, questionCount = 3) {
  return {
    title,
    description: 'Written by the end-to-end tests.',
    tags: ['e2e'],
    difficulty: 'easy',
    timeLimitSeconds: 600,
    questions: Array.from({ length: questionCount }, (_, i) => ({
      type: 'single',
      text: `Question ${i + 1}?`,
      points: i + 1,
      explanation: `Option A is right for question ${i + 1}.`,
      options: [
        { text: 'A', correct: true },
        { text: 'B', correct: false },
        { text: 'C', correct: false },
      ],
    })),
  };
}
