/**
 * Local name resolution: each sidecar on this machine writes one file per instance, atomically,
 * and removes it on close: `<dir>/<appId>.json` for an app's only (or first) instance,
 * `<dir>/<appId>@<instance>.json` for the others (replicas started with their own POD_NAME).
 * An entry is {appId, instance, httpPort, pid, internalToken, appHealthy}; entries whose pid is
 * dead are ignored. The internal token proves to the callee sidecar that the caller could read
 * the registry (a local stand-in for Dapr's mTLS between sidecars). `appHealthy` follows the
 * sidecar's app health checks, as a pod's readiness decides whether a Kubernetes Service routes
 * to it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SidecarStartupError } from '../errors';
import { isProcessAlive } from '@quizmesh/platform/process';

export interface RegistryEntry {
  appId: string;
  /** the pod name (POD_NAME), or the app id for a sidecar started without one */
  instance: string;
  httpPort: number;
  pid: number;
  internalToken: string;
  startedAt: string;
  /** false while the sidecar's app health checks report its app as unhealthy */
  appHealthy: boolean;
}

export function defaultRegistryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.QUIZMESH_SIDECAR_REGISTRY || join(tmpdir(), 'quizmesh-sidecars');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function fileName(appId: string, instance: string): string {
  if (!NAME.test(appId)) throw new Error(`invalid app id "${appId}"`);
  if (!NAME.test(instance)) throw new Error(`invalid instance name "${instance}"`);
  return instance === appId ? `${appId}.json` : `${appId}@${instance}.json`;
}

/** How long a resolved instance list is trusted before the directory is read again. */
const CACHE_MS = 1000;

export class SidecarRegistry {
  private readonly cache = new Map<string, { entries: RegistryEntry[]; at: number }>();

  constructor(readonly dir: string) {}

  /** Registers this sidecar; refuses when a live process already holds this instance of the app id. */
  register(appId: string, httpPort: number, instance: string = appId, appHealthy = true): RegistryEntry {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = fileName(appId, instance);
    const existing = this.readFile(file);
    if (existing && isProcessAlive(existing.pid) && !(existing.pid === process.pid && existing.httpPort === httpPort)) {
      throw new SidecarStartupError(
        `app id "${appId}"${instance === appId ? '' : ` instance "${instance}"`} is already registered by a running sidecar (pid ${existing.pid}, port ${existing.httpPort}) in ${this.dir}`,
      );
    }
    const entry: RegistryEntry = {
      appId,
      instance,
      httpPort,
      pid: process.pid,
      internalToken: randomBytes(24).toString('hex'),
      startedAt: new Date().toISOString(),
      appHealthy,
    };
    this.write(entry);
    return entry;
  }

  /** Rewrites our entry with the app's health (no-op when the file is no longer ours). */
  setAppHealthy(entry: RegistryEntry, appHealthy: boolean): void {
    entry.appHealthy = appHealthy;
    if (this.readFile(fileName(entry.appId, entry.instance))?.internalToken !== entry.internalToken) return;
    this.write(entry);
  }

  private write(entry: RegistryEntry): void {
    const file = join(this.dir, fileName(entry.appId, entry.instance));
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, file);
  }

  /** Removes the entry if it is still ours. */
  unregister(entry: RegistryEntry): void {
    const file = fileName(entry.appId, entry.instance);
    if (this.readFile(file)?.internalToken === entry.internalToken) {
      try {
        unlinkSync(join(this.dir, file));
      } catch {
        // already gone
      }
    }
  }

  /**
   * Every live instance of `appId`, ordered by instance name; `fresh` bypasses the short cache
   * (after a connection failure).
   */
  resolveAll(appId: string, fresh = false): RegistryEntry[] {
    const cached = this.cache.get(appId);
    if (!fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.entries;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    const entries = names
      .filter((name) => name === `${appId}.json` || (name.startsWith(`${appId}@`) && name.endsWith('.json')))
      .map((name) => this.readFile(name))
      .filter((e): e is RegistryEntry => e !== undefined && e.appId === appId && isProcessAlive(e.pid))
      .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
    if (entries.length > 0) this.cache.set(appId, { entries, at: Date.now() });
    else this.cache.delete(appId);
    return entries;
  }

  private readFile(name: string): RegistryEntry | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, name), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      const e = parsed as Partial<RegistryEntry>;
      if (
        typeof e.appId !== 'string' ||
        typeof e.httpPort !== 'number' ||
        typeof e.pid !== 'number' ||
        typeof e.internalToken !== 'string'
      )
        return undefined;
      return {
        appId: e.appId,
        instance: typeof e.instance === 'string' ? e.instance : e.appId,
        httpPort: e.httpPort,
        pid: e.pid,
        internalToken: e.internalToken,
        startedAt: String(e.startedAt ?? ''),
        appHealthy: e.appHealthy !== false,
      };
    } catch {
      return undefined;
    }
  }
}

/** How long an instance that could not be reached is skipped while others are available. */
const SKIP_UNREACHABLE_MS = 2_000;

/**
 * Picks the instance of an app id a call goes to, as daprd's name resolvers do: round robin
 * over the live instances (mDNS resolves round robin; on Kubernetes the Service spreads calls
 * over ready pods). Instances whose app is unhealthy, or that could not be reached moments ago,
 * are skipped while another one is available; with none left, the call still goes to one of
 * them and fails as daprd's would.
 */
export class InstancePicker {
  private readonly next = new Map<string, number>();
  /** internal token → until when it is skipped */
  private readonly unreachable = new Map<string, number>();

  constructor(readonly registry: SidecarRegistry) {}

  /** The next instance of `appId` not in `tried` (by internal token), or undefined when none is left. */
  pick(appId: string, tried: ReadonlySet<string>, fresh = false): RegistryEntry | undefined {
    const all = this.registry.resolveAll(appId, fresh).filter((e) => !tried.has(e.internalToken));
    if (all.length === 0) return undefined;
    const now = Date.now();
    const available = all.filter((e) => e.appHealthy && (this.unreachable.get(e.internalToken) ?? 0) <= now);
    const from = available.length > 0 ? available : all;
    const index = this.next.get(appId) ?? 0;
    this.next.set(appId, (index + 1) % 1_000_000);
    return from[index % from.length];
  }

  /** The call never reached `entry`'s app: skip it for a moment. */
  markUnreachable(entry: RegistryEntry): void {
    this.unreachable.set(entry.internalToken, Date.now() + SKIP_UNREACHABLE_MS);
    if (this.unreachable.size > 1000) {
      const now = Date.now();
      for (const [token, until] of this.unreachable) if (until <= now) this.unreachable.delete(token);
    }
  }
}
