/**
 * A Server-Sent Events client for GET /api/v1/stream, as a browser's EventSource would read it
 * (node:http, so the bearer token can go in a header). Keeps every event it receives; `next`
 * waits for the first one matching a predicate, bounded by a deadline that names what was missing.
 */
import http from 'node:http';
import { SseParser } from '@quizmesh/platform/testing';

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: unknown;
  /** when the frame was parsed (performance.now()), for the benchmark's lag figures */
  receivedAt: number;
}

type Waiter = { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void };

export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(e: SseEvent) => void>();
  private readonly parser = new SseParser();
  private closedReason: string | undefined;

  private constructor(private readonly request: http.ClientRequest) {}

  /** Connects and resolves once the stream's `ready` event arrived (the subscription is live). */
  static connect(url: string, token: string, timeoutMs = 15_000): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
      const client = new SseClient(request);
      const timer = setTimeout(() => {
        request.destroy();
        reject(new Error(`SSE ${url}: no ready event within ${timeoutMs} ms`));
      }, timeoutMs);
      request.on('response', (res) => {
        if (res.statusCode !== 200) {
          clearTimeout(timer);
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => reject(new Error(`SSE ${url} answered ${String(res.statusCode)}: ${body}`)));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('close', () => (client.closedReason ??= 'the server closed the stream'));
        void client
          .next((e) => e.event === 'ready', 'ready', timeoutMs)
          .then(
            () => {
              clearTimeout(timer);
              resolve(client);
            },
            (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
          );
      });
      request.on('error', (err) => {
        clearTimeout(timer);
        client.closedReason ??= err.message;
        reject(err);
      });
    });
  }

  private feed(chunk: string) {
    // Frames without data (heartbeat comments) dispatch nothing.
    for (const { event, id, data } of this.parser.feed(chunk)) if (data !== undefined) this.dispatch(event, id, data);
  }

  private dispatch(event: string, id: string | undefined, text: string) {
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    const received: SseEvent = { event, id, data: parsed, receivedAt: performance.now() };
    this.events.push(received);
    for (const listener of this.listeners) listener(received);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(received)) {
        this.waiters.delete(waiter);
        waiter.resolve(received);
      }
    }
  }

  /** The first event (already received or still to come) matching `match`. */
  next(match: (e: SseEvent) => boolean, what: string, timeoutMs = 30_000): Promise<SseEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const names = this.events.map((e) => e.event).join(', ') || 'none';
        reject(
          new Error(
            `SSE: no ${what} within ${timeoutMs} ms (events so far: ${names}${this.closedReason ? `; ${this.closedReason}` : ''})`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Calls `listener` for every event from now on. */
  onEvent(listener: (e: SseEvent) => void): void {
    this.listeners.add(listener);
  }

  close() {
    this.request.destroy();
  }
}
