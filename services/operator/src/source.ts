/**
 * Where Quiz resources live: the Kubernetes API (kube-source.ts) or a folder of YAML for local runs
 * (file-source.ts). The reconciler is written against this interface only, so both run the same code.
 */
import type { QuizResource, QuizResourceStatus } from '@quizmesh/contracts/quiz-resource';

export type EventType = 'Normal' | 'Warning';

export interface QuizSource {
  /** a short name for logs and the status endpoint */
  readonly kind: 'kubernetes' | 'files';
  /** starts listing and watching; `onChange` gets the key of every resource that changed */
  start(onChange: (key: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** true once the first list is in the cache (readiness) */
  synced(): boolean;
  /** the cached resource (the latest the watch delivered) */
  get(key: string): QuizResource | undefined;
  keys(): string[];
  /** writes metadata.finalizers; fails with ConflictError if the resource changed since it was read */
  setFinalizers(resource: QuizResource, finalizers: string[]): Promise<QuizResource>;
  /** writes the status subresource; fails with ConflictError if the resource changed since it was read */
  updateStatus(resource: QuizResource, status: QuizResourceStatus): Promise<QuizResource>;
  recordEvent(resource: QuizResource, type: EventType, reason: string, message: string): Promise<void>;
}

/**
 * The cache both sources keep: the latest of every resource the list and the watch (or the
 * folder scans) delivered, and whether the first list is in.
 */
export abstract class CachingQuizSource {
  protected readonly cache = new Map<string, QuizResource>();
  protected listed = false;

  synced(): boolean {
    return this.listed;
  }

  get(key: string): QuizResource | undefined {
    return this.cache.get(key);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }
}

/** The write was based on a stale resourceVersion (HTTP 409): re-read and reconcile again. */
export class ConflictError extends Error {
  constructor(what: string) {
    super(`${what}: the resource changed since it was read (409 Conflict)`);
    this.name = 'ConflictError';
  }
}

export const keyOf = (resource: Pick<QuizResource, 'metadata'>): string =>
  `${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
