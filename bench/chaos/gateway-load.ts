/**
 * Steady load through the public API for the chaos scenarios: one worker per player, each
 * iteration starting and submitting an attempt (quiz), reading the global leaderboard
 * (evaluation), the player's profile (identity) and notifications (notification). Every request
 * is recorded with its start and end time, so a scenario can count what failed overall and what
 * was in flight at the moment it killed something.
 */
import { answersFor, type Account, type AuthorQuiz, type GatewayClient } from '@quizmesh/e2e';

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

export class GatewayLoad {
  readonly records: RequestRecord[] = [];
  /** attempt ids whose submission the gateway accepted (202) */
  readonly accepted: string[] = [];
  private stopped = false;
  private sent = 0;
  private workers: Array<Promise<void>> = [];

  constructor(
    private readonly gateway: GatewayClient,
    private readonly quiz: AuthorQuiz,
    private readonly players: Account[],
    /** each worker starts an iteration at most this often */
    private readonly iterationMs: number,
  ) {}

  start(): void {
    this.workers = this.players.map((player) => this.work(player));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(player: Account): Promise<void> {
    while (!this.stopped) {
      const began = Date.now();
      const started = await this.timed('start-attempt', 'POST', `/api/v1/quizzes/${this.quiz.id}/attempts`, player);
      const attemptId = (started as { attempt?: { id?: string } } | undefined)?.attempt?.id;
      if (attemptId !== undefined) {
        const body = { answers: answersFor(this.quiz, began % (this.quiz.questions.length + 1)) };
        const submitted = await this.timed('submit', 'POST', `/api/v1/attempts/${attemptId}/submit`, player, body);
        if (submitted !== undefined) this.accepted.push(attemptId);
      }
      await this.timed('leaderboard', 'GET', '/api/v1/leaderboards/global?limit=10', player);
      await this.timed('profile', 'GET', '/api/v1/users/me', player);
      await this.timed('notifications', 'GET', '/api/v1/notifications', player);
      const rest = began + this.iterationMs - Date.now();
      if (rest > 0 && !this.stopped) await new Promise((r) => setTimeout(r, rest));
    }
  }

  /** One request; answers the parsed body when the status is the expected one. */
  private async timed(
    op: RequestRecord['op'],
    method: string,
    path: string,
    player: Account,
    body?: unknown,
  ): Promise<unknown> {
    const requestId = `chaos-load-${(this.sent += 1)}`;
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
}

/** Totals, latency and the first failures of a set of records. */
export function summarize(records: RequestRecord[]) {
  const latencies = records.map((r) => r.endedAt - r.startedAt).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
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
    latencyMs: { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0 },
    firstFailures: failed.slice(0, 5).map((r) => ({ op: r.op, status: r.status, detail: r.detail })),
  };
}

/** Requests that had started and not yet ended at `moment`. */
export function inFlightAt(records: RequestRecord[], moment: number): RequestRecord[] {
  return records.filter((r) => r.startedAt <= moment && r.endedAt >= moment);
}
