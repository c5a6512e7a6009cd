/**
 * Dynamic ports (tests: `portOffset: 'dynamic'`), chosen free and leased machine-wide.
 *
 * A launcher chooses its ports seconds before its processes bind them (databases and migrations
 * come first), so a port that was free when chosen could be chosen again in between by another
 * launcher on the machine (another jest worker), and one of the two apps then fails with
 * EADDRINUSE. Each chosen port is therefore also leased: a file `<dir>/<port>` created
 * exclusively and holding the owner's pid. Launchers skip ports leased by a live process, take
 * over leases whose owner is gone (a SIGKILLed worker), and give theirs back when they stop.
 */
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '@quizmesh/platform/process';

/** Quizmesh's dynamic ports: under Linux's default ephemeral range (32768–60999). */
export const DYNAMIC_PORT_RANGE = { min: 20_000, max: 32_000 } as const;

/** Shared by every launcher on the machine (per user: tmpdir is per user where TMPDIR is set). */
export const DEFAULT_LEASE_DIR = join(tmpdir(), 'quizmesh-port-leases');

/** A lease file still empty after this long was left by a process that died between create and write. */
const EMPTY_LEASE_GRACE_MS = 10_000;

export class PortLeases {
  private readonly held = new Set<number>();

  constructor(private readonly dir: string = DEFAULT_LEASE_DIR) {}

  /** true when this process now holds `port`'s lease; false when a live process holds it. */
  tryLease(port: number): boolean {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, String(port));
    // Two tries: the second after removing a dead owner's lease. Two launchers reclaiming the
    // same stale lease in the same instant could both succeed; among 12,000 random ports that
    // needs the same port and the same millisecond, and is accepted.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        this.held.add(port);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (!this.isStale(path)) return false;
      try {
        unlinkSync(path);
      } catch {
        /* another launcher removed it first */
      }
    }
    return false;
  }

  /** Gives back every lease this object took (only those still naming this process). */
  releaseAll(): void {
    for (const port of this.held) {
      const path = join(this.dir, String(port));
      try {
        if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
    this.held.clear();
  }

  private isStale(path: string): boolean {
    try {
      const owner = readFileSync(path, 'utf8');
      if (owner === '') return Date.now() - statSync(path).mtimeMs > EMPTY_LEASE_GRACE_MS;
      return !isProcessAlive(Number(owner));
    } catch {
      return true; // removed in between: free to try again
    }
  }
}

/**
 * `count` distinct loopback ports in `range` that are free now (held open together while they
 * are chosen, so no two are the same) and leased in `leases` (so no other launcher chooses them
 * before this run's processes bind them).
 */
export async function reservePorts(
  count: number,
  leases: PortLeases,
  range: { min: number; max: number } = DYNAMIC_PORT_RANGE,
): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let attempt = 0; held.length < count; attempt++) {
      if (attempt > count * 50) throw new Error(`no ${count} free ports in ${range.min}-${range.max}`);
      const candidate = range.min + randomInt(range.max - range.min);
      const server = await new Promise<Server | undefined>((resolve) => {
        const probe = createServer();
        probe.once('error', () => resolve(undefined));
        probe.listen({ port: candidate, host: '127.0.0.1', exclusive: true }, () => resolve(probe));
      });
      if (!server) continue;
      if (leases.tryLease(candidate)) held.push(server);
      else await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    return held.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
