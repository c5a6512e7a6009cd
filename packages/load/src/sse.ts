/**
 * The live stream as a player's browser follows it (GET /api/v1/stream), over the same
 * origin-locked fetch as every other request, with the token in the Authorization header (a
 * Node client can send headers, so the query form that leaks into logs is not needed). The
 * gateway replays nothing, so a player that reconnects re-checks what it waits for on `ready`.
 */
import { sleep, retryAfterMs, type GatewayHttp } from './http';

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** The text/event-stream format (WHATWG HTML 9.2.6): fields per line, an empty line dispatches. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.id = value;
    }
    return out;
  }
}

export interface StreamHandlers {
  /** the stream is (again) open; whatever was missed must be re-fetched */
  ready(): void;
  event(event: SseEvent): void;
  /** refused or dropped: `status` when the gateway answered, undefined for a network failure */
  failed(status: number | undefined, detail: string): void;
  rateLimited(retryAfterMs: number): void;
}

/**
 * Keeps one stream open until `close()`: reconnects after a drop with a fresh token (the
 * stream ends with `token-expired` when the token runs out), after Retry-After on 429/503,
 * else after a back-off growing from 1 s to 15 s.
 */
export class LiveStreamClient {
  private readonly abort = new AbortController();
  private closed = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly http: GatewayHttp,
    private readonly accessToken: () => Promise<string>,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      let waitMs = Math.min(15_000, 1000 * 2 ** failures);
      try {
        const token = await this.accessToken();
        const res = await this.http.open('GET', '/api/v1/stream', {
          headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
          signal: this.abort.signal,
        });
        if (res.status !== 200 || !res.body) {
          const text = await res.text().catch(() => '');
          if (res.status === 429) {
            waitMs = retryAfterMs(res.headers.get('retry-after'));
            this.handlers.rateLimited(waitMs);
          } else {
            if (res.status === 503) waitMs = retryAfterMs(res.headers.get('retry-after'));
            this.handlers.failed(res.status, text.slice(0, 200));
          }
          failures += 1;
        } else {
          const parser = new SseParser();
          const decoder = new TextDecoder();
          for await (const chunk of res.body) {
            for (const event of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
              if (event.event === 'ready') {
                failures = 0;
                this.handlers.ready();
              } else if (event.event !== 'token-expired') {
                this.handlers.event(event);
              }
            }
          }
          // Ended by the gateway (token-expired, a restart): reconnect soon, with a fresh token.
          waitMs = 250;
        }
      } catch (err) {
        if (this.closed) return;
        this.handlers.failed(undefined, (err as Error).message);
        failures += 1;
      }
      if (waitMs > 0) await sleep(waitMs, this.abort.signal);
    }
  }
}
