/**
 * The author: publishes a new quiz at the start and then every `publishEveryS`, through the
 * same public API an author's browser uses (create the draft, publish it). Its account is
 * given (a cluster) or npm start's bootstrap admin; when it cannot sign in or may not write
 * quizzes, the author part is skipped with the reason, and players play what is published.
 */
import type { CreateQuizRequest } from './api-types';
import { problemDetail, signIn, SignInError, type Session, type SignInContext } from './accounts';

export interface AuthorReport {
  status: 'active' | 'skipped';
  email?: string;
  reason?: string;
  published: number;
}

const QUESTIONS: Array<[string, string[]]> = [
  ['Capital of France?', ['Paris', 'Lyon', 'Marseille']],
  ['Largest planet of the solar system?', ['Jupiter', 'Saturn', 'Neptune']],
  ['Chemical symbol of gold?', ['Au', 'Ag', 'Gd']],
  ['Year the Berlin Wall fell?', ['1989', '1991', '1979']],
  ['Speed of light in vacuum, roughly?', ['300,000 km/s', '150,000 km/s', '30,000 km/s']],
  ['Author of "On the Origin of Species"?', ['Charles Darwin', 'Gregor Mendel', 'Alfred Wallace']],
];

/** A small quiz; the first option of each question is the right one (shuffled by position). */
export function generatedQuiz(runLabel: string, n: number, random: () => number): CreateQuizRequest {
  const picked = [...QUESTIONS].sort(() => random() - 0.5).slice(0, 3);
  return {
    title: `Load ${runLabel} #${n}`,
    description: 'Published by the load generator (npm run load).',
    tags: ['load'],
    difficulty: 'easy',
    timeLimitSeconds: 300,
    questions: picked.map(([text, [right, ...wrong]]) => {
      const options = [
        { text: right as string, correct: true },
        ...wrong.map((w) => ({ text: w, correct: false })),
      ].sort(() => random() - 0.5);
      return { type: 'single' as const, text, points: 1, options };
    }),
  };
}

export class Author {
  private session: Session | undefined;
  readonly report: AuthorReport;

  constructor(
    private readonly account: { email: string; password: string } | undefined,
    skipReason: string | undefined,
    private readonly ctx: SignInContext & { random: () => number; runLabel: string },
  ) {
    this.report = account
      ? { status: 'active', email: account.email, published: 0 }
      : { status: 'skipped', reason: skipReason ?? 'no author account', published: 0 };
  }

  get active(): boolean {
    return this.report.status === 'active';
  }

  private skip(reason: string): void {
    this.report.status = 'skipped';
    this.report.reason = reason;
  }

  /** Publishes one quiz (signing in first when needed). */
  async publishOne(): Promise<void> {
    if (!this.active || !this.account) return;
    const { http, stats } = this.ctx;
    try {
      if (!this.session || Date.now() >= this.session.renewAt)
        this.session = await signIn(this.ctx, {
          email: this.account.email,
          password: this.account.password,
          displayName: 'Load author',
        });
    } catch (err) {
      this.skip(`could not sign in as ${this.account.email}: ${(err as Error).message}`);
      if (!(err instanceof SignInError && err.rateLimited)) stats.error('author sign-in', (err as Error).message);
      return;
    }
    const token = this.session.accessToken;
    const body = generatedQuiz(this.ctx.runLabel, this.report.published + 1, this.ctx.random);
    const started = performance.now();
    const send = (method: string, path: string, payload?: unknown) =>
      http.request(method, path, {
        token,
        ...(payload !== undefined ? { body: payload } : {}),
        retryUntil: this.ctx.retryUntil(),
        signal: this.ctx.signal,
        onRateLimited: () => stats.limited('publish'),
      });
    const created = await send('POST', '/api/v1/quizzes', body);
    if (created.status === 403) {
      this.skip(
        `${this.account.email} may not write quizzes (403: ${problemDetail(created)}); give an author's account`,
      );
      return;
    }
    if (created.status !== 201) {
      if (created.status !== 429) stats.error(`publish ${created.status}`, problemDetail(created));
      return;
    }
    const id = (created.body as { id: string }).id;
    const published = await send('POST', `/api/v1/quizzes/${id}/publish`);
    if (published.status !== 200) {
      if (published.status !== 429) stats.error(`publish ${published.status}`, problemDetail(published));
      return;
    }
    // 'publish' holds both exchanges as one step: create + publish, as the author sees it.
    stats.step('publish').add(performance.now() - started);
    this.report.published += 1;
    stats.published += 1;
  }
}
