/**
 * One in-process PGlite database served over the PostgreSQL wire protocol on a loopback port,
 * so callers use the very same `pg` driver, `@prisma/adapter-pg` code path and DATABASE_URL as
 * in production (the db benchmarks). `npm start` runs a real PostgreSQL cluster instead
 * (cli/embedded-postgres.ts, decision 0860).
 *
 * PGlite is a single PostgreSQL backend (one session). We accept many client connections
 * and give the backend to one connection at a time, from its first message until the
 * backend reports ReadyForQuery with status "idle": a whole extended-protocol exchange
 * (Parse/Bind/Execute/Sync) or a whole transaction runs without interleaving. That is what
 * `@electric-sql/pglite-socket`'s multi-connection server does not do (it interleaves
 * individual protocol messages of concurrent connections, which mixes up unnamed
 * statements and portals); see docs/decisions/0200-prisma-wasm-migrations.md.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { isProcessAlive } from '../process';
// The ES module's type: the class that import() below resolves to.
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const READY_FOR_QUERY = 0x5a; // 'Z'
const STATUS_IDLE = 0x49; // 'I'
const TERMINATE = 0x58; // 'X'
const SYNC_MESSAGE = new Uint8Array([0x53, 0, 0, 0, 4]); // 'S', length 4

/** A simple-protocol Query message; db.exec() cannot be used inside runExclusive (same mutex). */
function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0);
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

export interface EmbeddedPostgresOptions {
  /** Directory holding the database files; created when missing. */
  dataDir: string;
  /** Loopback port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host to bind; defaults to 127.0.0.1 (never expose an unauthenticated database). */
  host?: string;
}

export interface EmbeddedPostgres {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`; the database name is not checked. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** Tracks backend message framing across output chunks to see how the last message ends. */
class BackendOutputTracker {
  private header = Buffer.alloc(0);
  private remainingBody = 0;
  private lastType = 0;
  private lastByte = 0;

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remainingBody > 0) {
        const take = Math.min(this.remainingBody, chunk.length - offset);
        offset += take;
        this.remainingBody -= take;
        this.lastByte = chunk[offset - 1] ?? 0;
        continue;
      }
      const need = 5 - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
      offset += Math.min(need, chunk.length - offset);
      if (this.header.length === 5) {
        this.lastType = this.header[0] ?? 0;
        this.remainingBody = this.header.readInt32BE(1) - 4;
        this.header = Buffer.alloc(0);
      }
    }
  }

  /** True when the output ended with ReadyForQuery('I'): no transaction, no pending exchange. */
  get endsIdle(): boolean {
    return (
      this.header.length === 0 &&
      this.remainingBody === 0 &&
      this.lastType === READY_FOR_QUERY &&
      this.lastByte === STATUS_IDLE
    );
  }
}

/** FIFO ownership of the single backend, re-entrant for the owning connection. */
class BackendGate<T> {
  private owner: T | null = null;
  private waiters: { holder: T; grant: () => void }[] = [];

  async acquire(holder: T): Promise<void> {
    if (this.owner === null) this.owner = holder;
    else if (this.owner !== holder) await new Promise<void>((grant) => this.waiters.push({ holder, grant }));
  }

  isOwner(holder: T): boolean {
    return this.owner === holder;
  }

  release(holder: T): void {
    if (this.owner !== holder) return;
    const next = this.waiters.shift();
    this.owner = next ? next.holder : null;
    next?.grant();
  }

  forget(holder: T): void {
    this.waiters = this.waiters.filter((w) => w.holder !== holder);
  }
}

/** Refuses a second process on the same data directory (PGlite has no locking of its own). */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, 'quizmesh-embedded.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lockPath, 'utf8'));
      if (isProcessAlive(pid)) {
        throw new EmbeddedPostgresError(`data directory ${dataDir} is in use by process ${pid}`);
      }
      rmSync(lockPath, { force: true }); // stale lock of a process that died
    }
  }
  throw new EmbeddedPostgresError(`cannot lock data directory ${dataDir}`);
}

class ClientConnection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly gate: BackendGate<ClientConnection>,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      void this.pump();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => void this.onClose());
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Splits the buffer into protocol messages and runs them one by one, in order. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let message = this.nextMessage(); message && !this.closed; message = this.nextMessage()) {
        await this.handle(message);
      }
    } catch {
      this.socket.destroy();
    } finally {
      this.pumping = false;
    }
  }

  private nextMessage(): Buffer | undefined {
    // Startup-phase messages have no type byte: int32 length, int32 code.
    const headerLength = this.started ? 5 : 4;
    if (this.buffer.length < headerLength) return undefined;
    const length = this.started ? 1 + this.buffer.readInt32BE(1) : this.buffer.readInt32BE(0);
    if (this.buffer.length < length) return undefined;
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private async handle(message: Buffer): Promise<void> {
    if (!this.started) {
      const code = message.length >= 8 ? message.readInt32BE(4) : 0;
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N'); // no encryption on loopback; the client continues in plain text
        return;
      }
      if (code === CANCEL_REQUEST) {
        this.socket.end(); // query cancellation is not supported
        return;
      }
      this.started = true;
    } else if (message[0] === TERMINATE) {
      this.socket.end();
      return;
    }
    await this.gate.acquire(this);
    if (this.closed) return;
    const output = new BackendOutputTracker();
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (chunk) => {
          output.push(chunk);
          if (!this.socket.destroyed) this.socket.write(chunk);
        },
      }),
    );
    if (output.endsIdle) this.gate.release(this);
  }

  /** A client that vanishes mid-exchange or mid-transaction must not wedge the backend. */
  private async onClose(): Promise<void> {
    this.closed = true;
    this.gate.forget(this);
    try {
      await this.db.runExclusive(async () => {
        if (!this.gate.isOwner(this)) return;
        await this.db.execProtocolRaw(SYNC_MESSAGE); // ends an unfinished extended-protocol exchange
        if (this.db.isInTransaction()) await this.db.execProtocolRaw(queryMessage('ROLLBACK'));
      });
    } finally {
      this.gate.release(this);
    }
  }
}

/**
 * A development database holds little: smaller buffers than PostgreSQL's defaults save about
 * 130 MB per process (measured RSS 828 → 698 MB), and `npm start` runs one per service.
 */
const DEVELOPMENT_SETTINGS = ['shared_buffers = 16MB', 'temp_buffers = 4MB', 'work_mem = 4MB'];

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  let db: PGlite;
  try {
    // Loaded here, not at import: every app imports @quizmesh/platform/db and none runs PGlite.
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create(join(dataDir, 'pgdata'), { postgresqlconf: DEVELOPMENT_SETTINGS });
  } catch (error) {
    unlock();
    throw new EmbeddedPostgresError(
      `cannot open PGlite data in ${dataDir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const gate = new BackendGate<ClientConnection>();
  const connections = new Set<ClientConnection>();
  const server = createServer((socket) => {
    const connection = new ClientConnection(socket, db, gate);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  try {
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', failed);
        listening();
      });
    });
  } catch (error) {
    await db.close();
    unlock();
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new EmbeddedPostgresError(`cannot listen on ${host}:${options.port ?? 0}: ${reason}`);
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `postgresql://postgres@${host}:${port}/postgres`,
    port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((done) => server.close(() => done()));
        for (const connection of connections) connection.destroy();
        await stopped;
        // runExclusive waits for a statement still running for a connection that just closed.
        await db.runExclusive(async () => undefined);
        await db.close();
        unlock();
      })();
      return closing;
    },
  };
}
