/**
 * The open live streams of this replica and how events reach them (docs/decisions/0650):
 * leaderboard updates go to every stream, a notification only to its recipient's streams. A
 * visitor's stream (no token) has no user: it gets leaderboard updates only and never expires.
 *
 * One timer serves every stream: it writes the heartbeat comment, ends streams whose access
 * token has expired, and drops clients whose socket buffer stayed full for a whole interval.
 * Each event is serialised once and the same bytes are written to every stream.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { recordSseConnections } from '@quizmesh/platform/telemetry';

export interface StreamHubOptions {
  heartbeatMs: number;
  retryMs: number;
  maxConnections: number;
  maxConnectionsPerUser: number;
  /** open streams per client address, whichever accounts they use */
  maxConnectionsPerAddress: number;
  /** bytes queued in the process for one client (beyond the kernel's socket buffer) before it is dropped */
  maxBufferedBytes: number;
  logger: Logger;
}

export interface StreamEvent {
  /** the SSE `event:` name */
  event: string;
  /** the SSE `id:` (the CloudEvent id); omitted when it could break the framing */
  id?: string;
  data: unknown;
}

interface Connection {
  readonly id: string;
  /** undefined for a visitor's stream */
  readonly userId: string | undefined;
  /** the client address that opened it (as trusted proxies report it) */
  readonly address: string;
  readonly res: ServerResponse;
  /** epoch ms after which the access token that opened the stream is no longer valid (visitors: never) */
  readonly expiresAtMs: number;
  /** set when a write could not be flushed to the socket, cleared on 'drain' */
  congestedSinceMs: number | undefined;
}

/** Why a new stream was refused. */
export type Admission =
  { admitted: true } | { admitted: false; reason: 'user-limit' | 'address-limit' | 'replica-limit' };

/** An SSE id line must be one line of printable characters (a CR/LF would start a new field). */
const SAFE_ID = /^[\x20-\x7e]{1,200}$/;

export function formatEvent(message: StreamEvent): string {
  const id = message.id !== undefined && SAFE_ID.test(message.id) ? `id: ${message.id}\n` : '';
  // JSON.stringify escapes line breaks, so the payload is always a single `data:` line.
  return `event: ${message.event}\n${id}data: ${JSON.stringify(message.data)}\n\n`;
}

const HEARTBEAT = ': heartbeat\n\n';

export class StreamHub {
  private readonly connections = new Set<Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byAddress = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: StreamHubOptions) {}

  /** Open streams on this replica. */
  get size(): number {
    return this.connections.size;
  }

  /** Open streams of one user on this replica. */
  sizeOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /** Open streams from one client address on this replica. */
  sizeOfAddress(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /**
   * Whether a new stream of `userId` (undefined: a visitor) from `address` fits under the caps
   * (checked before the response starts).
   */
  admit(userId: string | undefined, address: string): Admission {
    if (this.closed || this.connections.size >= this.options.maxConnections)
      return { admitted: false, reason: 'replica-limit' };
    if (userId !== undefined && this.sizeOf(userId) >= this.options.maxConnectionsPerUser)
      return { admitted: false, reason: 'user-limit' };
    // Checked per address too: thousands of self-registered accounts from one address would
    // otherwise hold every slot of the replica.
    if (this.sizeOfAddress(address) >= this.options.maxConnectionsPerAddress)
      return { admitted: false, reason: 'address-limit' };
    return { admitted: true };
  }

  /**
   * Starts the event stream on `res` (headers, retry hint, `ready`) and keeps it until the client
   * goes away, its token expires, it is too slow, or the hub closes. Call `admit` first.
   */
  open(
    res: ServerResponse,
    user: { id: string; expiresAtMs: number } | undefined,
    lastEventId: string | undefined,
    address: string,
  ): void {
    const connection: Connection = {
      id: randomUUID(),
      userId: user?.id,
      address,
      res,
      expiresAtMs: user?.expiresAtMs ?? Number.POSITIVE_INFINITY,
      congestedSinceMs: undefined,
    };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: intermediaries must not compress or rewrite the stream (compression buffers).
      'cache-control': 'no-cache, no-transform',
      // nginx (ingress-nginx) would otherwise buffer the response and deliver events late.
      'x-accel-buffering': 'no',
    });
    const socket = res.socket;
    socket?.setNoDelay(true);
    socket?.setKeepAlive(true);
    this.connections.add(connection);
    recordSseConnections(1);
    if (user) {
      let forUser = this.byUser.get(user.id);
      if (!forUser) this.byUser.set(user.id, (forUser = new Set()));
      forUser.add(connection);
    }
    this.byAddress.set(address, this.sizeOfAddress(address) + 1);
    res.on('drain', () => {
      connection.congestedSinceMs = undefined;
    });
    res.on('close', () => this.forget(connection));
    // No replay buffer: `ready` tells the client to re-fetch the state it shows (decision 0650).
    this.write(
      connection,
      `retry: ${this.options.retryMs}\n` +
        formatEvent({ event: 'ready', data: { replay: false, resumedAfter: lastEventId ?? null } }),
    );
    this.startTimer();
  }

  /** To every open stream. */
  broadcast(message: StreamEvent): number {
    const frame = formatEvent(message);
    let written = 0;
    for (const connection of this.connections) if (this.write(connection, frame)) written += 1;
    return written;
  }

  /** To the open streams of one user. */
  sendToUser(userId: string, message: StreamEvent): number {
    const connections = this.byUser.get(userId);
    if (!connections) return 0;
    const frame = formatEvent(message);
    let written = 0;
    for (const connection of [...connections]) if (this.write(connection, frame)) written += 1;
    return written;
  }

  /** Ends every stream and refuses new ones (graceful shutdown: streams would otherwise hold the drain forever). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    const count = this.connections.size;
    for (const connection of [...this.connections]) this.end(connection);
    if (count > 0) this.options.logger.info({ streams: count }, 'closed live streams for shutdown');
  }

  /** Writes one frame; a client whose queue grows past the limit is dropped. False when not written. */
  private write(connection: Connection, frame: string): boolean {
    const { res } = connection;
    if (res.writableEnded || res.destroyed) return false;
    if (res.writableLength + frame.length > this.options.maxBufferedBytes) {
      this.drop(connection, 'buffer-limit');
      return false;
    }
    const flushed = res.write(frame);
    if (!flushed) connection.congestedSinceMs ??= Date.now();
    return true;
  }

  private tick(): void {
    const now = Date.now();
    for (const connection of [...this.connections]) {
      if (now >= connection.expiresAtMs) {
        this.write(connection, formatEvent({ event: 'token-expired', data: {} }));
        this.end(connection);
      } else if (
        connection.congestedSinceMs !== undefined &&
        now - connection.congestedSinceMs >= this.options.heartbeatMs
      ) {
        this.drop(connection, 'not-reading');
      } else {
        this.write(connection, HEARTBEAT);
      }
    }
  }

  private drop(connection: Connection, reason: 'buffer-limit' | 'not-reading'): void {
    this.options.logger.warn(
      { userId: connection.userId, stream: connection.id, queuedBytes: connection.res.writableLength, reason },
      'dropping a live-stream client that does not keep up',
    );
    this.forget(connection);
    // Destroy, not end: ending would queue behind the bytes the client is not reading.
    connection.res.destroy();
  }

  private end(connection: Connection): void {
    this.forget(connection);
    connection.res.end();
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    recordSseConnections(-1);
    if (connection.userId !== undefined) {
      const forUser = this.byUser.get(connection.userId);
      forUser?.delete(connection);
      if (forUser?.size === 0) this.byUser.delete(connection.userId);
    }
    const fromAddress = this.sizeOfAddress(connection.address) - 1;
    if (fromAddress > 0) this.byAddress.set(connection.address, fromAddress);
    else this.byAddress.delete(connection.address);
    if (this.connections.size === 0) this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.options.heartbeatMs);
    // Streams keep their sockets open; the timer alone must not keep a stopping process alive.
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
