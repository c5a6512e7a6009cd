/**
 * Load through the public API for the chaos scenarios, in two shapes over one request recorder:
 * - `GatewayLoad`: one worker per player, each iteration starting and submitting an attempt
 *   (quiz), reading the global leaderboard (evaluation), the player's profile (identity) and
 *   notifications (notification) — every service under load (R2, R6);
 * - `steadyLoad`: a fixed number of submissions at a fixed rate, each answering a chosen number
 *   of questions right, so the scores can be checked exactly (R1, R5).
 * Every request is recorded with its start and end time and an x-request-id, so a scenario can
 * count what failed overall and what was in flight at the moment it killed something.
 */
import { answersFor, type Account, type AuthorQuiz, type GatewayClient } from '@quizmesh/e2e';
import { summary } from '../stats';

export interface RequestRecord {
  /** sent as x-request-id: the services log it with the request */
  requestId: string;
  op: 'start-attempt' | 'submit' | 'leaderboard' | 'profile' | 'notifications';
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when no answer came (connection refused or reset) */
  status: number;
  ok: boolean;
  detail?: string;
}

const EXPECTED: Record<RequestRecord['op'], number[]> = {
  'start-attempt': [200, 201],
  submit: [202],
  leaderboard: [200],
  profile: [200],
  notifications: [200],
};

/** Bounds how long one request may hang before it counts as failed. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Sends requests as a player and records each one; `send` answers the parsed body when the status is the expected one. */
class RequestRecorder {
  readonly records: RequestRecord[] = [];
  private sent = 0;

  constructor(
    private readonly gateway: GatewayClient,
    private readonly tag: string,
  ) {}

  async send(op: RequestRecord['op'], method: string, path: string, player: Account, body?: unknown): Promise<unknown> {
    const requestId = `${this.tag}-${(this.sent += 1)}`;
    const startedAt = Date.now();
    let status = 0;
    let text: string;
    try {
      const res = await fetch(`${this.gateway.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${player.token}`,
          'x-request-id': requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      text =
        err instanceof Error ? `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}` : String(err);
    }
    const ok = EXPECTED[op].includes(status);
    this.records.push({
      requestId,
      op,
      startedAt,
      endedAt: Date.now(),
      status,
      ok,
      ...(ok ? {} : { detail: text.slice(0, 300) }),
    });
    if (!ok) return undefined;
    try {
      return text === '' ? {} : (JSON.parse(text) as unknown);
    } catch {
      return {};
    }
  }

  /** Starts and submits an attempt answering `correct` questions right; answers its id once accepted (202). */
  async play(quiz: AuthorQuiz, player: Account, correct: number): Promise<string | undefined> {
    const started = await this.send('start-attempt', 'POST', `/api/v1/quizzes/${quiz.id}/attempts`, player);
    const attemptId = (started as { attempt?: { id?: string } } | undefined)?.attempt?.id;
    if (attemptId === undefined) return undefined;
    const body = { answers: answersFor(quiz, correct) };
    const submitted = await this.send('submit', 'POST', `/api/v1/attempts/${attemptId}/submit`, player, body);
    return submitted === undefined ? undefined : attemptId;
  }
}

export class GatewayLoad {
  private readonly recorder: RequestRecorder;
  /** attempt ids whose submission the gateway accepted (202) */
  readonly accepted: string[] = [];
  private stopped = false;
  private workers: Array<Promise<void>> = [];

  constructor(
    gateway: GatewayClient,
    private readonly quiz: AuthorQuiz,
    private readonly players: Account[],
    /** each worker starts an iteration at most this often */
    private readonly iterationMs: number,
  ) {
    this.recorder = new RequestRecorder(gateway, 'chaos-load');
  }

  get records(): RequestRecord[] {
    return this.recorder.records;
  }

  start(): void {
    this.workers = this.players.map((player) => this.work(player));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(player: Account): Promise<void> {
    const send = this.recorder.send.bind(this.recorder);
    while (!this.stopped) {
      const began = Date.now();
      const attemptId = await this.recorder.play(this.quiz, player, began % (this.quiz.questions.length + 1));
      if (attemptId !== undefined) this.accepted.push(attemptId);
      await send('leaderboard', 'GET', '/api/v1/leaderboards/global?limit=10', player);
      await send('profile', 'GET', '/api/v1/users/me', player);
      await send('notifications', 'GET', '/api/v1/notifications', player);
      const rest = began + this.iterationMs - Date.now();
      if (rest > 0 && !this.stopped) await new Promise((r) => setTimeout(r, rest));
    }
  }
}

export interface Submission {
  attemptId: string;
  player: number;
  correct: number;
  at: number;
}

export interface SubmissionLoad {
  accepted: Submission[];
  /** "<status, or the error's name when no answer came>": count — submissions the platform did not accept (not an error of the scenario by itself) */
  refused: Record<string, number>;
  /** the first few refusals: when, and what the platform answered */
  refusalSamples: Array<{ atSecond: number; what: string }>;
  /** start and submit together, per accepted submission */
  latencyMs: number[];
  achievedPerSecond: number;
  records: RequestRecord[];
}

/**
 * `total` submissions (start + submit through the gateway) at `perSecond`, spread over the
 * players; each player submits one after another (a player's concurrent starts would return the
 * same open attempt). `correctFor(i)` questions right on submission i.
 */
export async function steadyLoad(
  gateway: GatewayClient,
  players: Account[],
  quiz: AuthorQuiz,
  options: { total: number; perSecond: number; correctFor?: (i: number) => number },
): Promise<SubmissionLoad> {
  const recorder = new RequestRecorder(gateway, 'chaos-steady');
  const interval = 1000 / options.perSecond;
  const start = Date.now();
  const accepted: Submission[] = [];
  const refused: Record<string, number> = {};
  const refusalSamples: SubmissionLoad['refusalSamples'] = [];
  const latencyMs: number[] = [];
  const correctFor = options.correctFor ?? ((i: number) => i % (quiz.questions.length + 1));
  await Promise.all(
    players.map(async (player, p) => {
      for (let i = p; i < options.total; i += players.length) {
        const due = start + i * interval;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const began = Date.now();
        const correct = correctFor(i);
        const attemptId = await recorder.play(quiz, player, correct);
        if (attemptId !== undefined) {
          latencyMs.push(Date.now() - began);
          accepted.push({ attemptId, player: p, correct, at: began });
          continue;
        }
        const failed = recorder.records.at(-1);
        const key = failed?.status ? String(failed.status) : (failed?.detail?.split(':')[0] ?? 'error');
        refused[key] = (refused[key] ?? 0) + 1;
        if (refusalSamples.length < 5)
          refusalSamples.push({
            atSecond: Math.round((began - start) / 100) / 10,
            what: `${failed?.op} ${failed?.status}: ${failed?.detail ?? ''}`.slice(0, 300),
          });
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  const sent = accepted.length + Object.values(refused).reduce((a, b) => a + b, 0);
  return {
    accepted,
    refused,
    refusalSamples,
    latencyMs,
    achievedPerSecond: Math.round((sent / seconds) * 10) / 10,
    records: recorder.records,
  };
}

/** Totals, latency and the first failures of a set of records. */
export function summarize(records: RequestRecord[]) {
  const latency = summary(records.map((r) => r.endedAt - r.startedAt));
  const failed = records.filter((r) => !r.ok);
  const byStatus: Record<string, number> = {};
  for (const r of failed) byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
  return {
    requests: records.length,
    succeeded: records.length - failed.length,
    failed: failed.length,
    successRate: records.length === 0 ? 0 : (records.length - failed.length) / records.length,
    failedByStatus: byStatus,
    breakerOpenAnswers: failed.filter((r) => r.status === 503 && /circuit breaker/i.test(r.detail ?? '')).length,
    latencyMs: { p50: latency.p50, p99: latency.p99, max: latency.max },
    firstFailures: failed.slice(0, 5).map((r) => ({ op: r.op, status: r.status, detail: r.detail })),
  };
}

/** Requests that had started and not yet ended at `moment`. */
export function inFlightAt(records: RequestRecord[], moment: number): RequestRecord[] {
  return inFlightDuring(records, moment, moment);
}

/** Requests open at some moment between `from` and `to` (e.g. a kill signal and the process's death). */
export function inFlightDuring(records: RequestRecord[], from: number, to: number): RequestRecord[] {
  return records.filter((r) => r.startedAt <= to && r.endedAt >= from);
}
