/**
 * Local name resolution: each sidecar on this machine writes `<dir>/<appId>.json`
 * ({appId, httpPort, pid, internalToken}) atomically and removes it on close. Entries whose
 * pid is dead are ignored. The internal token proves to the callee sidecar that the caller
 * could read the registry (a local stand-in for Dapr's mTLS between sidecars).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SidecarStartupError } from '../errors';

export interface RegistryEntry {
  appId: string;
  httpPort: number;
  pid: number;
  internalToken: string;
  startedAt: string;
}

export function defaultRegistryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.QUIZMESH_SIDECAR_REGISTRY || join(tmpdir(), 'quizmesh-sidecars');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileFor(dir: string, appId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(appId)) throw new Error(`invalid app id "${appId}"`);
  return join(dir, `${appId}.json`);
}

/** How long a resolved entry is trusted before the file is read again. */
const CACHE_MS = 1000;

export class SidecarRegistry {
  private readonly cache = new Map<string, { entry: RegistryEntry; at: number }>();

  constructor(readonly dir: string) {}

  /** Registers this sidecar; refuses when a live process already holds the app id. */
  register(appId: string, httpPort: number): RegistryEntry {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const existing = this.read(appId);
    if (existing && !(existing.pid === process.pid && existing.httpPort === httpPort)) {
      throw new SidecarStartupError(
        `app id "${appId}" is already registered by a running sidecar (pid ${existing.pid}, port ${existing.httpPort}) in ${this.dir}`,
      );
    }
    const entry: RegistryEntry = {
      appId,
      httpPort,
      pid: process.pid,
      internalToken: randomBytes(24).toString('hex'),
      startedAt: new Date().toISOString(),
    };
    const file = fileFor(this.dir, appId);
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, file);
    return entry;
  }

  /** Removes the entry if it is still ours. */
  unregister(entry: RegistryEntry): void {
    const current = this.readRaw(entry.appId);
    if (current?.internalToken === entry.internalToken) {
      try {
        unlinkSync(fileFor(this.dir, entry.appId));
      } catch {
        // already gone
      }
    }
  }

  /** The live entry for `appId`; `fresh` bypasses the short cache (after a connection failure). */
  resolve(appId: string, fresh = false): RegistryEntry | undefined {
    const cached = this.cache.get(appId);
    if (!fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.entry;
    const entry = this.read(appId);
    if (entry) this.cache.set(appId, { entry, at: Date.now() });
    else this.cache.delete(appId);
    return entry;
  }

  private read(appId: string): RegistryEntry | undefined {
    const entry = this.readRaw(appId);
    return entry && isAlive(entry.pid) ? entry : undefined;
  }

  private readRaw(appId: string): RegistryEntry | undefined {
    let text: string;
    try {
      text = readFileSync(fileFor(this.dir, appId), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      const e = parsed as Partial<RegistryEntry>;
      if (typeof e.httpPort !== 'number' || typeof e.pid !== 'number' || typeof e.internalToken !== 'string')
        return undefined;
      return {
        appId,
        httpPort: e.httpPort,
        pid: e.pid,
        internalToken: e.internalToken,
        startedAt: String(e.startedAt ?? ''),
      };
    } catch {
      return undefined;
    }
  }
}
