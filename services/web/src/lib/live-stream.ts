/**
 * One live connection to the gateway's stream (GET /api/v1/stream, Server-Sent Events) for the
 * whole app. EventSource cannot send headers, so the access token goes in the URL, and each
 * reconnection asks for a fresh token (the stream ends with `token-expired` when it runs out).
 * Signed out, the stream is a visitor's (no token): leaderboard updates only.
 * The gateway has no replay: every `ready` (first connection and each reconnection) tells the
 * pages to re-fetch what they show, so nothing missed while disconnected stays missing.
 *
 * Reconnection is ours rather than the browser's: a refused stream (401, 429, 503) closes an
 * EventSource for good, and the browser's own retry would reuse an expired token. Delays grow
 * from `retryMs` (the gateway's hint) to `maxDelayMs`, with jitter, and reset once `ready` arrives.
 */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveStreamOptions {
  /** the stream's path (the generated client's `/api/v1/stream`) */
  path: string;
  /** a valid access token, refreshed if needed; undefined when signed out (then a visitor's stream) */
  accessToken: () => Promise<string | undefined>;
  open: EventSourceFactory;
  timers?: Timers;
  retryMs?: number;
  maxDelayMs?: number;
  /** 0..1, for tests; Math.random in the browser */
  random?: () => number;
}

export type StreamListener = (event: { type: string; data: unknown }) => void;

const EVENTS = ['leaderboard', 'notification'] as const;

export class LiveStream {
  private source: EventSourceLike | undefined;
  private timer: unknown;
  private failures = 0;
  private stopped = true;
  private generation = 0;
  private readonly listeners = new Set<StreamListener>();
  private readonly statusListeners = new Set<(status: StreamStatus) => void>();
  private currentStatus: StreamStatus = 'stopped';
  private readonly timers: Timers;

  constructor(private readonly options: LiveStreamOptions) {
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
  }

  get status(): StreamStatus {
    return this.currentStatus;
  }

  /** `ready` events (re-fetch), `leaderboard` and `notification` events, with parsed data. */
  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Closes the connection and any pending reconnection (sign-out, page unload). */
  stop(): void {
    this.stopped = true;
    this.generation += 1;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.source?.close();
    this.source = undefined;
    this.setStatus('stopped');
  }

  /** Reconnects now with a fresh token (after sign-in as someone else, or a token refresh). */
  restart(): void {
    this.stop();
    this.failures = 0;
    this.start();
  }

  /** The delay before reconnection attempt `failures` (1-based): doubling, capped, ±25 % jitter. */
  delayFor(failures: number): number {
    const base = this.options.retryMs ?? 2_000;
    const max = this.options.maxDelayMs ?? 30_000;
    const raw = Math.min(max, base * 2 ** Math.max(0, failures - 1));
    const jitter = 0.75 + 0.5 * (this.options.random ?? Math.random)();
    return Math.round(Math.min(max, raw * jitter));
  }

  private setStatus(status: StreamStatus) {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private emit(type: string, data: unknown) {
    for (const listener of this.listeners) listener({ type, data });
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.setStatus(this.failures === 0 ? 'connecting' : 'reconnecting');
    let token: string | undefined;
    try {
      token = await this.options.accessToken();
    } catch {
      token = undefined;
    }
    if (generation !== this.generation || this.stopped) return;
    const source = this.options.open(
      token === undefined ? this.options.path : `${this.options.path}?access_token=${encodeURIComponent(token)}`,
    );
    this.source = source;
    source.addEventListener('ready', () => {
      if (generation !== this.generation) return;
      this.failures = 0;
      this.setStatus('live');
      this.emit('ready', null);
    });
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => {
        if (generation !== this.generation) return;
        try {
          this.emit(type, JSON.parse(event.data));
        } catch {
          // A malformed event is dropped; the next `ready` re-fetch repairs the view.
        }
      });
    }
    source.addEventListener('token-expired', () => {
      if (generation !== this.generation) return;
      // Not a failure: reconnect at once with a fresh token.
      source.close();
      void this.connect();
    });
    source.onerror = () => {
      if (generation !== this.generation) return;
      source.close();
      this.failures += 1;
      this.setStatus('reconnecting');
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        if (generation === this.generation && !this.stopped) void this.connect();
      }, this.delayFor(this.failures));
    };
  }
}
