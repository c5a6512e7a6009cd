/**
 * `pubsub.local-network` (Quizmesh-only, local runs): an in-memory broker shared by the
 * sidecars of one machine. daprd's `pubsub.in-memory` lives inside one process, but the
 * launcher runs one sidecar process per app, so events must cross processes to reach the
 * other apps. Each sidecar listens on a loopback port and registers the topics it consumes in
 * `<registry dir>/pubsub/<component>/<appId>.json`; publish hands the message to every live
 * sidecar that consumes the topic (itself included) and resolves once each has accepted it.
 * Like in-memory, nothing is persisted: a message for a sidecar that is not running is lost,
 * and a failed delivery is retried only by a Resiliency inbound policy. Metadata `network:
 * <name>` joins another component's broker (the embedded `pubsub-broadcast` joins `pubsub`: what
 * is published on either reaches the subscribers of both). See docs/sidecar.md.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { InMemoryPubSub } from './in-memory';
import type { MessageHandler, PubSubComponent, PubSubFeature, PublishRequest, SubscribeRequest } from './types';
import { isProcessAlive } from '@quizmesh/platform/process';

interface PeerEntry {
  appId: string;
  pid: number;
  port: number;
  token: string;
  topics: string[];
}

interface WireMessage {
  topic: string;
  data: string; // base64
  metadata: Record<string, string>;
}

const PEER_CACHE_MS = 250;
const HANDOFF_TIMEOUT_MS = 5_000;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export class LocalNetworkPubSub implements PubSubComponent {
  readonly features: readonly PubSubFeature[] = [];
  private readonly local: InMemoryPubSub;
  private readonly topics = new Set<string>();
  private readonly token = randomBytes(24).toString('hex');
  private readonly agent = new Agent({ keepAlive: true });
  private peers: { at: number; list: PeerEntry[] } = { at: 0, list: [] };
  private closed = false;

  private constructor(
    private readonly name: string,
    private readonly appId: string,
    private readonly dir: string,
    private readonly server: Server,
    private readonly logger: Logger,
  ) {
    this.local = new InMemoryPubSub(name, logger);
  }

  static async create(
    name: string,
    appId: string,
    registryDir: string,
    logger: Logger,
    network: string | undefined = undefined,
  ): Promise<LocalNetworkPubSub> {
    const bus = network || name;
    if (!/^[\w.-]+$/.test(bus) || bus === '.' || bus === '..')
      throw new Error(`network must be a component name, got "${bus}"`);
    const dir = join(registryDir, 'pubsub', bus);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const server = createServer();
    const component = new LocalNetworkPubSub(name, appId, dir, server, logger);
    server.on('request', (req, res) => component.receive(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    component.writeEntry();
    return component;
  }

  private get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** One entry per app and component on this bus (two components of one sidecar may share it). */
  private get entryFile(): string {
    return join(this.dir, basename(this.dir) === this.name ? `${this.appId}.json` : `${this.appId}@${this.name}.json`);
  }

  private writeEntry() {
    const entry: PeerEntry = {
      appId: this.appId,
      pid: process.pid,
      port: this.port,
      token: this.token,
      topics: [...this.topics],
    };
    const tmp = `${this.entryFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(tmp, this.entryFile);
  }

  private livePeers(): PeerEntry[] {
    if (Date.now() - this.peers.at < PEER_CACHE_MS) return this.peers.list;
    const list: PeerEntry[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      try {
        const entry = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as PeerEntry;
        if (isProcessAlive(entry.pid)) list.push(entry);
      } catch {
        /* being replaced or removed: skip this round */
      }
    }
    this.peers = { at: Date.now(), list };
    return list;
  }

  async publish(request: PublishRequest): Promise<void> {
    if (this.closed) throw new Error(`pubsub ${this.name} is closed`);
    const targets = this.livePeers().filter((p) => p.topics.includes(request.topic));
    const wire: WireMessage = {
      topic: request.topic,
      data: request.data.toString('base64'),
      metadata: request.metadata,
    };
    await Promise.all(
      targets.map((peer) =>
        peer.pid === process.pid && peer.port === this.port ? this.local.publish(request) : this.handOff(peer, wire),
      ),
    );
  }

  private handOff(peer: PeerEntry, message: WireMessage): Promise<void> {
    const body = Buffer.from(JSON.stringify(message));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: peer.port,
          method: 'POST',
          path: '/deliver',
          agent: this.agent,
          timeout: HANDOFF_TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-local-pubsub-token': peer.token,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204
              ? resolve()
              : reject(new Error(`sidecar of ${peer.appId} refused the message (${res.statusCode ?? 0})`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`sidecar of ${peer.appId} did not accept the message in time`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private receive(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
    const presented = Buffer.from(String(req.headers['x-local-pubsub-token'] ?? ''));
    const expected = Buffer.from(this.token);
    if (
      req.method !== 'POST' ||
      req.url !== '/deliver' ||
      presented.length !== expected.length ||
      !timingSafeEqual(presented, expected)
    ) {
      res.writeHead(403).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MESSAGE_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WireMessage;
        void this.local
          .publish({ topic: message.topic, data: Buffer.from(message.data, 'base64'), metadata: message.metadata })
          .then(
            () => res.writeHead(204).end(),
            (err: unknown) => {
              this.logger.warn({ err, pubsub: this.name }, 'local-network pub/sub: could not accept a message');
              res.writeHead(503).end();
            },
          );
      } catch {
        res.writeHead(400).end();
      }
    });
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    await this.local.subscribe(request, handler);
    this.topics.add(request.topic);
    this.writeEntry();
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      unlinkSync(this.entryFile);
    } catch {
      /* already gone */
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await this.local.close();
  }
}
