/** Small fakes and a real HTTP subscriber app for the pub/sub tests (no sidecar server needed). */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { withoutHealthChecks } from '../src/app-channel/channel';
import type { AppChannel } from '../src/app-channel/types';
import type { PolicyRunner, ResiliencyLookup } from '../src/resiliency/types';

export const silentLogger = pino({ level: process.env.PUBSUB_TEST_LOG ?? 'silent' });

/** Inbound deliveries: up to `attempts` tries, `delayMs` apart (like a constant retry policy); outbound: one try. */
export class FixedRetryResiliency implements ResiliencyLookup {
  /** attempts used by each finished inbound run, in completion order */
  readonly inboundRuns: Array<{ attempts: number; ok: boolean }> = [];

  constructor(
    private readonly attempts: number,
    private readonly delayMs = 5,
  ) {}

  componentInbound(): PolicyRunner {
    return {
      run: async <T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> => {
        for (let attempt = 1; ; attempt++) {
          try {
            const value = await operation(new AbortController().signal);
            this.inboundRuns.push({ attempts: attempt, ok: true });
            return value;
          } catch (err) {
            if (attempt >= this.attempts) {
              this.inboundRuns.push({ attempts: attempt, ok: false });
              throw err;
            }
            await new Promise((resolve) => setTimeout(resolve, this.delayMs));
          }
        }
      },
    };
  }

  componentOutbound(): PolicyRunner {
    return { run: (operation) => operation(new AbortController().signal) };
  }

  app(): PolicyRunner {
    return this.componentOutbound();
  }
}

export interface ReceivedEvent {
  path: string;
  headers: IncomingHttpHeaders;
  event: Record<string, unknown>;
}

type Reply = { status: number; body?: unknown };
type Responder = (received: ReceivedEvent, countForId: number) => Reply;

/** A subscriber app on port 0: serves /dapr/subscribe and records every event POSTed to it. */
export class TestApp {
  readonly received: ReceivedEvent[] = [];
  subscribeRequests: IncomingHttpHeaders[] = [];
  private responders = new Map<string, Responder>();
  private readonly server: Server;
  baseUrl = '';

  constructor(public subscriptions: unknown[] = []) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        if (req.method === 'GET' && path === '/dapr/subscribe') {
          this.subscribeRequests.push(req.headers);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.subscriptions));
          return;
        }
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const received = { path, headers: req.headers, event };
        this.received.push(received);
        const count = this.received.filter((r) => r.event.id === event.id && r.path === path).length;
        const reply = (this.responders.get(path) ?? (() => ({ status: 200, body: { status: 'SUCCESS' } })))(
          received,
          count,
        );
        const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(body);
      });
    });
  }

  respond(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  at(path: string): ReceivedEvent[] {
    return this.received.filter((r) => r.path === path);
  }

  channel(appId: string, appApiToken?: string): AppChannel {
    return { ...withoutHealthChecks, appId, baseUrl: this.baseUrl, appApiToken, waitUntilReady: async () => undefined };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` returns true; fails with `what` after `timeoutMs` (a bound, not a speed assertion). */
export async function waitUntil(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
