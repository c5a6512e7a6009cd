/**
 * Dynamic ports are leased machine-wide: a launcher that has chosen its ports but not yet bound
 * them (its databases and migrations come first) keeps every other launcher off them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortLeases, reservePorts } from '../src/port-leases';

/** A free band of `size` ports well inside the dynamic range, so the test owns nearly all of it. */
async function quietBand(size: number): Promise<{ min: number; max: number }> {
  for (;;) {
    const min = 20_000 + 10 * Math.floor(Math.random() * 1_100);
    const free = await Promise.all(
      Array.from(
        { length: size },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const server = createServer();
            server.once('error', () => resolve(false));
            server.listen(min + i, '127.0.0.1', () => server.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return { min, max: min + size };
  }
}

describe('dynamic port leases', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quizmesh-leases-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a second launcher off the ports a first one chose and has not bound yet', async () => {
    const band = await quietBand(8);
    const first = new PortLeases(dir);
    const second = new PortLeases(dir);
    // The first launcher's ports are chosen and released (nothing listens on them yet) ...
    const mine = await reservePorts(4, first, band);
    // ... and the second, choosing from the same 8 ports, must get the other 4.
    const theirs = await reservePorts(4, second, band);
    expect(new Set([...mine, ...theirs]).size).toBe(8);
    // With no ports left to lease, a third gives up instead of sharing.
    await expect(reservePorts(1, new PortLeases(dir), band)).rejects.toThrow(/no 1 free ports/);
    first.releaseAll();
    second.releaseAll();
  });

  it('gives its leases back on release, and only its own', async () => {
    const leases = new PortLeases(dir);
    const [port] = (await reservePorts(1, leases, await quietBand(1))) as [number];
    expect(readFileSync(join(dir, String(port)), 'utf8')).toBe(String(process.pid));
    leases.releaseAll();
    expect(existsSync(join(dir, String(port)))).toBe(false);

    // A lease another process took over after ours was reclaimed is not ours to remove.
    const again = new PortLeases(dir);
    expect(again.tryLease(port)).toBe(true);
    writeFileSync(join(dir, String(port)), '1');
    again.releaseAll();
    expect(readFileSync(join(dir, String(port)), 'utf8')).toBe('1');
  });

  it('respects a live owner and takes over from a dead one', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const childPid = child.pid as number;
    try {
      writeFileSync(join(dir, '21000'), String(childPid));
      expect(new PortLeases(dir).tryLease(21000)).toBe(false);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const leases = new PortLeases(dir);
      expect(leases.tryLease(21000)).toBe(true);
      expect(readFileSync(join(dir, '21000'), 'utf8')).toBe(String(process.pid));
      leases.releaseAll();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('treats a lease left empty by a crash as taken at first, then as stale', () => {
    const path = join(dir, '21001');
    writeFileSync(path, '');
    expect(new PortLeases(dir).tryLease(21001)).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const leases = new PortLeases(dir);
    expect(leases.tryLease(21001)).toBe(true);
    leases.releaseAll();
  });
});
