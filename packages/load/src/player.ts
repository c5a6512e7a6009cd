/**
 * One simulated player, doing what the web app's player does (services/web): signs in once,
 * keeps the live stream open, and per session browses the catalogue, opens a quiz, starts an
 * attempt, answers, submits, and waits until the result lands: the `result` notification on
 * its stream, then its line on the quiz's leaderboard (a `leaderboard` event naming it, or
 * its rank read once). One attempt at a time, so the next `result` is this attempt's.
 */
import type { PlayerQuiz, QuizList, StartAttemptResponse } from './api-types';
import { problemDetail, signIn, SignInError, timed, type Session, type SignInContext } from './accounts';
import { sleep, type GatewayResponse } from './http';
import { LiveStreamClient, type SseEvent } from './sse';
import type { Step } from './stats';

export interface PlayerContext extends SignInContext {
  password: string;
  resultTimeoutMs: number;
  random: () => number;
  /** a short pause that ends early when the run is interrupted */
  pause: (ms: number) => Promise<void>;
}

interface PendingResult {
  quizId: string;
  /** a second before the submit was sent: a board entry finished since then is this attempt's or newer */
  submittedAtSecond: number;
  resultSeen: () => void;
  boardSeen: () => void;
  reconnected: () => void;
}

type Waited = 'result' | 'board' | 'reconnected' | 'timeout';

export class Player {
  private session: Session | undefined;
  private stream: LiveStreamClient | undefined;
  private streamReady!: Promise<void>;
  private pending: PendingResult | undefined;

  constructor(
    readonly email: string,
    private readonly displayName: string,
    private readonly ctx: PlayerContext,
  ) {}

  /** Signs in and opens the stream; false when it could not (counted), so the player sits out. */
  async join(): Promise<boolean> {
    try {
      this.session = await signIn(this.ctx, {
        email: this.email,
        password: this.ctx.password,
        displayName: this.displayName,
      });
    } catch (err) {
      if (err instanceof SignInError && err.rateLimited) return false;
      this.ctx.stats.error('sign-in', (err as Error).message);
      return false;
    }
    let streamReady!: () => void;
    this.streamReady = new Promise((resolve) => (streamReady = resolve));
    let opened = performance.now();
    this.stream = new LiveStreamClient(this.ctx.http, () => this.token(), {
      ready: () => {
        this.ctx.stats.step('stream').add(performance.now() - opened);
        streamReady();
        this.pending?.reconnected();
      },
      event: (event) => this.onStreamEvent(event),
      failed: (status, detail) => {
        opened = performance.now();
        if (this.ctx.signal.aborted) return;
        this.ctx.stats.error(`stream ${status ?? 'network'}`, detail);
      },
      rateLimited: () => {
        opened = performance.now();
        this.ctx.stats.limited('stream');
      },
    });
    this.stream.start();
    // Play once the stream is up, or after the result timeout without it (results then come by re-reading).
    const gaveUp = new AbortController();
    const stopWaiting = () => gaveUp.abort();
    this.ctx.signal.addEventListener('abort', stopWaiting, { once: true });
    await Promise.race([this.streamReady, sleep(this.ctx.resultTimeoutMs, gaveUp.signal)]);
    stopWaiting(); // clears the timer, so nothing holds the process once the run is over
    this.ctx.signal.removeEventListener('abort', stopWaiting);
    return true;
  }

  async leave(): Promise<void> {
    await this.stream?.close();
  }

  /** A valid access token: the current one, or a new one from logging in again. */
  private async token(): Promise<string> {
    if (!this.session) throw new Error('not signed in');
    if (Date.now() >= this.session.renewAt)
      this.session = await signIn(this.ctx, {
        email: this.email,
        password: this.ctx.password,
        displayName: this.displayName,
      });
    return this.session.accessToken;
  }

  private onStreamEvent(event: SseEvent): void {
    const pending = this.pending;
    if (!pending || !this.session) return;
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      this.ctx.stats.error('stream event', `not JSON: ${event.data.slice(0, 100)}`);
      return;
    }
    if (event.event === 'notification') {
      const n = data as { userId?: string; kind?: string };
      if (n.userId === this.session.userId && n.kind === 'result') pending.resultSeen();
    } else if (event.event === 'leaderboard') {
      const board = data as { board?: string; quizId?: string; top?: Array<{ userId: string; finishedAt?: string }> };
      if (board.board !== 'quiz' || board.quizId !== pending.quizId) return;
      const me = board.top?.find((e) => e.userId === this.session?.userId);
      // finishedAt is the best attempt's submission, to the second: this one or a later one.
      if (me?.finishedAt && Math.floor(Date.parse(me.finishedAt) / 1000) >= pending.submittedAtSecond)
        pending.boardSeen();
    }
  }

  private async call(step: Step, method: string, path: string, body?: unknown): Promise<GatewayResponse> {
    const token = await this.token();
    return timed(this.ctx, step, (onRateLimited) =>
      this.ctx.http.request(method, path, {
        token,
        ...(body !== undefined ? { body } : {}),
        retryUntil: this.ctx.retryUntil(),
        signal: this.ctx.signal,
        onRateLimited,
      }),
    );
  }

  /** false (and counted) unless `res` has one of `statuses`; a 429 that outlasted the run is no error. */
  private expect(step: Step, res: GatewayResponse, ...statuses: number[]): boolean {
    if (statuses.includes(res.status)) return true;
    if (res.status !== 429) this.ctx.stats.error(`${step} ${res.status}`, problemDetail(res));
    return false;
  }

  /** One session: browse → open → start → answer → submit → result on the stream → on the leaderboard. */
  async play(): Promise<void> {
    try {
      await this.playOnce();
    } catch (err) {
      if (this.ctx.signal.aborted) return;
      // Renewing the token met a 429 that outlasted the run: a rate limit, counted as such.
      if (err instanceof SignInError && err.rateLimited) return;
      this.ctx.stats.error('session', (err as Error).message);
    } finally {
      this.pending = undefined;
    }
  }

  private async playOnce(): Promise<void> {
    const { stats, random } = this.ctx;
    const list = await this.call('browse', 'GET', '/api/v1/quizzes?limit=20');
    if (!this.expect('browse', list, 200)) return;
    const items = (list.body as QuizList).items;
    if (items.length === 0) {
      stats.emptyCatalogue += 1;
      return;
    }
    const chosen = items[Math.floor(random() * items.length)] as QuizList['items'][number];

    const opened = await this.call('open', 'GET', `/api/v1/quizzes/${chosen.id}`);
    // Archived or replaced between the listing and the click: a real player goes back to the list.
    if (opened.status === 404) return;
    if (!this.expect('open', opened, 200)) return;
    const quiz = opened.body as PlayerQuiz;
    await this.ctx.pause(300 + random() * 700); // reading the quiz's page

    const started = await this.call('start', 'POST', `/api/v1/quizzes/${quiz.id}/attempts`);
    if (!this.expect('start', started, 200, 201)) return;
    const { attempt, quiz: version } = started.body as StartAttemptResponse;
    await this.ctx.pause(200 * version.questions.length * (0.5 + random())); // answering

    const answers = version.questions.map((q) => ({ questionId: q.id, optionIds: chooseOptions(q, random) }));
    const waitForResult = this.expectResult(quiz.id);
    const submit = await this.call('submit', 'POST', `/api/v1/attempts/${attempt.id}/submit`, { answers });
    if (submit.status === 429) return;
    stats.submitted(submit.status);
    if (!this.expect('submit', submit, 202)) return;
    await this.awaitVisible(waitForResult, attempt.id, quiz.id, performance.now());
  }

  /** Installs the waiters before submitting, so an event racing the 202 is not missed. */
  private expectResult(quizId: string): { next: () => Promise<Waited> } {
    const queue: Waited[] = [];
    let wake: (() => void) | undefined;
    const push = (what: Waited) => {
      queue.push(what);
      wake?.();
    };
    this.pending = {
      quizId,
      submittedAtSecond: Math.floor(Date.now() / 1000) - 1,
      resultSeen: () => push('result'),
      boardSeen: () => push('board'),
      reconnected: () => push('reconnected'),
    };
    return {
      next: () =>
        new Promise<Waited>((resolve) => {
          const ready = queue.shift();
          if (ready) return resolve(ready);
          const finish = () => {
            clearTimeout(timer);
            this.ctx.signal.removeEventListener('abort', finish);
            wake = undefined;
            resolve(queue.shift() ?? 'timeout');
          };
          const timer = setTimeout(finish, this.remainingMs);
          this.ctx.signal.addEventListener('abort', finish, { once: true });
          wake = finish;
        }),
    };
  }

  private deadline = 0;
  private get remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  private async awaitVisible(
    waiter: { next: () => Promise<Waited> },
    attemptId: string,
    quizId: string,
    submittedAt: number,
  ): Promise<void> {
    const { stats } = this.ctx;
    this.deadline = submittedAt + this.ctx.resultTimeoutMs;
    let resultAt: number | undefined;
    let boardAt: number | undefined;
    while (resultAt === undefined) {
      const what = await waiter.next();
      if (this.ctx.signal.aborted) return;
      if (what === 'board') boardAt ??= performance.now();
      else if (what === 'result') {
        resultAt = performance.now();
        stats.streamLag.add(resultAt - submittedAt);
      } else if (what === 'reconnected' || what === 'timeout') {
        // The gateway replays nothing: after a reconnection the player re-reads its attempt.
        const read = await this.call('attempt', 'GET', `/api/v1/attempts/${attemptId}`);
        const scored = read.status === 200 && (read.body as { status?: string }).status === 'SCORED';
        if (scored) resultAt = performance.now();
        else if (read.status === 429 && what === 'timeout') {
          stats.unconfirmed += 1;
          return;
        } else if (what === 'timeout') {
          stats.notVisible += 1;
          stats.error(
            'not scored in time',
            `attempt ${attemptId}: ${read.status} ${JSON.stringify(read.body).slice(0, 120)}`,
          );
          return;
        }
        if (scored && what === 'timeout')
          stats.error('result not streamed', `attempt ${attemptId} was scored but no result came on a live stream`);
      }
    }
    while (boardAt === undefined) {
      const path = `/api/v1/leaderboards/quiz/${quizId}/players/${this.session?.userId}?around=0`;
      const rank = await this.call('leaderboard', 'GET', path);
      if (rank.status === 200) boardAt = performance.now();
      // The board's index is written just after the scoring commit: a 404 this close may still turn.
      else if (rank.status === 404 && this.remainingMs > 0) await this.ctx.pause(Math.min(250, this.remainingMs));
      else if (rank.status === 429) {
        stats.unconfirmed += 1; // rate-limited past the run's end: neither seen nor missing
        return;
      } else {
        stats.notVisible += 1;
        stats.error(
          `leaderboard ${rank.status}`,
          `scored attempt ${attemptId} is not on its quiz's board: ${problemDetail(rank)}`,
        );
        return;
      }
    }
    stats.visibleLag.add(boardAt - submittedAt);
  }
}

/** Single choice: one option; multiple choice: one or more; chosen at random like a guessing player. */
export function chooseOptions(question: PlayerQuiz['questions'][number], random: () => number): string[] {
  const ids = question.options.map((o) => o.id);
  if (ids.length === 0) return [];
  if (question.type !== 'multiple') return [ids[Math.floor(random() * ids.length)] as string];
  const picked = ids.filter(() => random() < 0.5);
  return picked.length > 0 ? picked : [ids[0] as string];
}
