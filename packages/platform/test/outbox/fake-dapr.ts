/**
 * FakeDaprPublishEndpoint: the few Dapr HTTP routes the outbox relay touches (publish, plus the
 * metadata/health probes the SDK makes before its first call), recording every published
 * CloudEvent. It can go down and come back on the same port, like a restarting sidecar.
 * (The relay is also exercised against the real local sidecar in services/identity's tests.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedEvent {
  pubsub: string;
  topic: string;
  contentType: string | undefined;
  event: Record<string, unknown>;
}

export class FakeDaprPublishEndpoint {
  readonly published: PublishedEvent[] = [];
  /** answer publishes with this status instead of 204 (e.g. 500: broker down) */
  failWith: number | undefined;
  /** answer 500 only to the events this picks */
  failFor: ((event: Record<string, unknown>) => boolean) | undefined;
  /** hold every publish this long before answering */
  delayMs = 0;
  /** the most publishes that were in progress at once */
  maxInFlight = 0;
  private inFlight = 0;
  private server: http.Server | undefined;
  private boundPort = 0;

  get port(): number {
    return this.boundPort;
  }

  async start(port = this.boundPort): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = req.url ?? '';
        const publish = /^\/v1\.0\/publish\/([^/]+)\/([^/?]+)/.exec(url);
        if (req.method === 'POST' && publish) {
          this.inFlight += 1;
          this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
          setTimeout(() => {
            this.inFlight -= 1;
            const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            const status = this.failWith ?? (this.failFor?.(event) ? 500 : undefined);
            if (status !== undefined) {
              res.writeHead(status, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE', message: 'broker unavailable' }));
              return;
            }
            this.published.push({
              pubsub: decodeURIComponent(publish[1] ?? ''),
              topic: decodeURIComponent(publish[2] ?? ''),
              contentType: req.headers['content-type'],
              event,
            });
            res.writeHead(204).end();
          }, this.delayMs);
          return;
        }
        if (url.startsWith('/v1.0/metadata')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'fake' }));
          return;
        }
        if (url.startsWith('/v1.0/healthz')) {
          res.writeHead(204).end();
          return;
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    return this;
  }

  /** Goes down: new connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
