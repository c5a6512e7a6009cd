/**
 * Quiz resources from a folder of YAML files, for local runs without a Kubernetes API (`npm start`).
 * It behaves like the API server as far as the reconciler can tell: `metadata.generation` grows when
 * a file's spec changes, a removed file (or document) becomes a deletion that waits for the
 * finalizer, status and finalizers live in memory, events go to the log. The folder is polled (every
 * `pollMs`), which works the same on every file system and editor (atomic renames included); a
 * file whose size, modification time and inode are those of its last good parse is read again
 * only every 30 s (parsing every file every second was most of the operator's idle CPU).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import {
  QUIZ_API_VERSION,
  QUIZ_RESOURCE,
  type QuizResource,
  type QuizResourceStatus,
} from '@quizmesh/contracts/quiz-resource';
import { canonical } from './reconciler';
import { CachingQuizSource, ConflictError, keyOf, type EventType, type QuizSource } from './source';

export interface FileSourceOptions {
  dir: string;
  logger: Logger;
  pollMs?: number;
}

/** how long a file's stat alone may vouch for its content */
const REREAD_UNCHANGED_MS = 30_000;

interface ParsedResource {
  key: string;
  metadata: { name: string; namespace: string };
  spec: unknown;
}

export interface RecordedEvent {
  resource: string;
  type: EventType;
  reason: string;
  message: string;
  at: string;
}

export class FileQuizSource extends CachingQuizSource implements QuizSource {
  readonly kind = 'files' as const;
  private resourceVersion = 0;
  private timer: NodeJS.Timeout | undefined;
  private onChange: (key: string) => void = () => {};
  /** the latest events (newest last), shown by the status endpoint */
  readonly events: RecordedEvent[] = [];
  /** files that did not parse, with why */
  readonly problems = new Map<string, string>();
  /** each file's resources as last parsed without error, with the stat they were read at */
  private readonly parsed = new Map<string, { stamp: string; readAt: number; resources: ParsedResource[] }>();
  /** files read and parsed since start (tests read it) */
  parses = 0;

  constructor(private readonly options: FileSourceOptions) {
    super();
  }

  async start(onChange: (key: string) => void): Promise<void> {
    this.onChange = onChange;
    this.scan();
    this.listed = true;
    const poll = () => {
      this.scan();
      this.timer = setTimeout(poll, this.options.pollMs ?? 1_000);
      this.timer.unref();
    };
    this.timer = setTimeout(poll, this.options.pollMs ?? 1_000);
    this.timer.unref();
    await Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.resolve();
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  /** Reads every *.yaml / *.yml file: new and changed resources update, missing ones start deleting. */
  scan(): void {
    const found = new Map<string, { metadata: { name: string; namespace: string }; spec: unknown; file: string }>();
    let files: string[] = [];
    try {
      files = readdirSync(this.options.dir).filter((f) => /\.ya?ml$/.test(f));
    } catch (err) {
      this.problems.set(this.options.dir, err instanceof Error ? err.message : String(err));
    }
    const present = new Set<string>();
    for (const file of files.sort()) {
      const path = join(this.options.dir, file);
      present.add(path);
      try {
        for (const { key, metadata, spec } of this.resourcesOf(path)) found.set(key, { metadata, spec, file });
        this.problems.delete(path);
      } catch (err) {
        // A file being written or a typo: keep what we had from it, report the problem.
        this.problems.set(path, err instanceof Error ? err.message : String(err));
        for (const [key, resource] of this.cache) {
          if (
            (resource.metadata as { annotations?: Record<string, string> }).annotations?.['quizmesh.io/file'] === file
          )
            found.set(key, {
              metadata: { name: resource.metadata.name, namespace: resource.metadata.namespace ?? 'default' },
              spec: resource.spec,
              file,
            });
        }
      }
    }
    for (const path of this.parsed.keys()) if (!present.has(path)) this.parsed.delete(path);
    for (const [key, next] of found) {
      const current = this.cache.get(key);
      if (
        current &&
        !current.metadata.deletionTimestamp &&
        (current.spec === next.spec || canonical(current.spec) === canonical(next.spec))
      )
        continue;
      const generation = current && !current.metadata.deletionTimestamp ? (current.metadata.generation ?? 1) + 1 : 1;
      this.cache.set(key, {
        apiVersion: QUIZ_API_VERSION,
        kind: QUIZ_RESOURCE.kind,
        metadata: {
          ...next.metadata,
          generation,
          resourceVersion: this.nextVersion(),
          annotations: { 'quizmesh.io/file': next.file },
          ...(current && !current.metadata.deletionTimestamp && current.metadata.finalizers
            ? { finalizers: current.metadata.finalizers }
            : {}),
        },
        spec: next.spec,
        ...(current?.status && !current.metadata.deletionTimestamp ? { status: current.status } : {}),
      });
      this.onChange(key);
    }
    for (const [key, current] of this.cache) {
      if (found.has(key) || current.metadata.deletionTimestamp) continue;
      if ((current.metadata.finalizers ?? []).length === 0) {
        this.cache.delete(key);
      } else {
        this.cache.set(key, {
          ...current,
          metadata: {
            ...current.metadata,
            deletionTimestamp: new Date().toISOString(),
            resourceVersion: this.nextVersion(),
          },
        });
      }
      this.onChange(key);
    }
  }

  /**
   * The Quiz resources in one file: parsed again when its stat changed since the last good parse,
   * and at least every REREAD_UNCHANGED_MS (a same-size rewrite within a file system's timestamp
   * granularity keeps the stat).
   */
  private resourcesOf(path: string): ParsedResource[] {
    const stat = statSync(path);
    const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    const known = this.parsed.get(path);
    if (known?.stamp === stamp && Date.now() - known.readAt < REREAD_UNCHANGED_MS) return known.resources;
    this.parses += 1;
    const resources: ParsedResource[] = [];
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
      const value = doc.toJS() as {
        apiVersion?: unknown;
        kind?: unknown;
        metadata?: { name?: unknown; namespace?: unknown };
        spec?: unknown;
      } | null;
      if (!value || value.apiVersion !== QUIZ_API_VERSION || value.kind !== QUIZ_RESOURCE.kind) continue;
      const name = value.metadata?.name;
      if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name))
        throw new Error('metadata.name must be a DNS label (lower-case letters, digits, -)');
      const namespace = typeof value.metadata?.namespace === 'string' ? value.metadata.namespace : 'default';
      resources.push({ key: `${namespace}/${name}`, metadata: { name, namespace }, spec: value.spec });
    }
    this.parsed.set(path, { stamp, readAt: Date.now(), resources });
    return resources;
  }

  private current(resource: QuizResource): QuizResource {
    const key = keyOf(resource);
    const current = this.cache.get(key);
    if (!current || current.metadata.resourceVersion !== resource.metadata.resourceVersion)
      throw new ConflictError(key);
    return current;
  }

  async setFinalizers(resource: QuizResource, finalizers: string[]): Promise<QuizResource> {
    const current = this.current(resource);
    const key = keyOf(resource);
    if (current.metadata.deletionTimestamp && finalizers.length === 0) {
      this.cache.delete(key);
      this.onChange(key);
      return current;
    }
    const updated = { ...current, metadata: { ...current.metadata, finalizers, resourceVersion: this.nextVersion() } };
    this.cache.set(key, updated);
    return Promise.resolve(updated);
  }

  async updateStatus(resource: QuizResource, status: QuizResourceStatus): Promise<QuizResource> {
    const current = this.current(resource);
    const updated = { ...current, status, metadata: { ...current.metadata, resourceVersion: this.nextVersion() } };
    this.cache.set(keyOf(resource), updated);
    return Promise.resolve(updated);
  }

  async recordEvent(resource: QuizResource, type: EventType, reason: string, message: string): Promise<void> {
    this.events.push({ resource: keyOf(resource), type, reason, message, at: new Date().toISOString() });
    if (this.events.length > 100) this.events.splice(0, this.events.length - 100);
    await Promise.resolve();
  }
}
