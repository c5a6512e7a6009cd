/**
 * Quiz resources from the Kubernetes API through @kubernetes/client-node.
 *
 * The informer is our own small reflector over the client's `Watch` and `CustomObjectsApi`, not its
 * `makeInformer`/`ListWatch` (1.4.0), which (docs/decisions/0801-operator-informer.md): never asks
 * for bookmarks (`allowWatchBookmarks`), so an idle watch falls behind the API server's event window
 * and every reconnect after a quiet period costs a full re-list; stops for good on any error other
 * than 410 (the caller must restart it, with no back-off of its own); and sends no `timeoutSeconds`.
 * This reflector lists, then watches from the list's resourceVersion with bookmarks, resumes from the
 * last resourceVersion it saw (object or bookmark) when a watch ends, re-lists on 410 Gone (as an
 * HTTP status or as an ERROR event), and retries failures with capped exponential back-off.
 */
import type { Logger } from 'pino';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import {
  QUIZ_RESOURCE,
  quizResourceSchema,
  type QuizResource,
  type QuizResourceStatus,
} from '@quizmesh/contracts/quiz-resource';
import { CachingQuizSource, ConflictError, keyOf, type EventType, type QuizSource } from './source';

const { group, version, plural } = QUIZ_RESOURCE;

export interface KubeSourceOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  logger: Logger;
  /** who writes events (the pod name) */
  reportingInstance: string;
  /** server-side watch timeout; the reflector resumes from its resourceVersion afterwards */
  watchTimeoutSeconds?: number;
}

function isGone(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  return e !== null && (e.statusCode === 410 || e.code === 410);
}

export class KubeQuizSource extends CachingQuizSource implements QuizSource {
  readonly kind = 'kubernetes' as const;
  private readonly objects: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private resourceVersion = '';
  private stopped = true;
  private failures = 0;
  private request: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private onChange: (key: string) => void = () => {};
  /** what the last list/watch did, for tests and the status endpoint */
  readonly counters = { lists: 0, watches: 0, bookmarks: 0, gone: 0, errors: 0 };

  constructor(private readonly options: KubeSourceOptions) {
    super();
    this.objects = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.watch = new Watch(options.kubeConfig);
  }

  /** Resolves after the first list attempt; the watch (and any retry) goes on in the background. */
  async start(onChange: (key: string) => void): Promise<void> {
    this.onChange = onChange;
    this.stopped = false;
    try {
      await this.list();
    } catch (err) {
      this.ended(err);
      return;
    }
    void this.cycle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.request?.abort();
    this.request = undefined;
  }

  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  /** One list (when there is no resourceVersion to resume from) and one watch. */
  private async cycle(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.resourceVersion) await this.list();
      this.counters.watches += 1;
      this.request = await this.watch.watch(
        `/apis/${group}/${version}/namespaces/${this.options.namespace}/${plural}`,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
        },
        (type: string, object: unknown) => this.handle(type, object),
        (err: unknown) => this.ended(err),
      );
    } catch (err) {
      this.ended(err);
    }
  }

  private async list(): Promise<void> {
    this.counters.lists += 1;
    const list = (await this.objects.listNamespacedCustomObject({
      group,
      version,
      namespace: this.options.namespace,
      plural,
    })) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
    const seen = new Set<string>();
    for (const item of list.items ?? []) {
      const resource = this.parse(item);
      if (!resource) continue;
      seen.add(keyOf(resource));
      this.store(resource);
    }
    // Deleted while we were not watching.
    for (const key of [...this.cache.keys()]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.onChange(key);
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.listed = true;
  }

  private handle(type: string, object: unknown): void {
    const meta = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata;
    switch (type) {
      case 'ERROR':
        // 410: our resourceVersion left the API server's window; the watch then ends and we re-list.
        if ((object as { code?: unknown }).code === 410) {
          this.counters.gone += 1;
          this.resourceVersion = '';
        }
        return;
      case 'BOOKMARK':
        this.counters.bookmarks += 1;
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const resource = this.parse(object);
        if (resource) this.store(resource);
        break;
      }
      case 'DELETED': {
        const resource = this.parse(object);
        if (resource) {
          this.cache.delete(keyOf(resource));
          this.onChange(keyOf(resource));
        }
        break;
      }
      default:
        return;
    }
    if (meta?.resourceVersion) this.resourceVersion = meta.resourceVersion;
  }

  private ended(err: unknown): void {
    this.request = undefined;
    if (this.stopped) return;
    if (isGone(err)) {
      this.counters.gone += 1;
      this.resourceVersion = '';
    } else if (err) {
      this.counters.errors += 1;
      this.failures += 1;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      this.options.logger.warn({ err, retryInMs: delay }, 'quiz watch failed; retrying');
      this.retryTimer = setTimeout(() => void this.cycle(), delay);
      this.retryTimer.unref();
      return;
    }
    this.failures = 0;
    void this.cycle();
  }

  private parse(object: unknown): QuizResource | undefined {
    const parsed = quizResourceSchema.safeParse(object);
    if (parsed.success) return parsed.data;
    // The status may have been written by something else; keep the resource without it.
    const withoutStatus = quizResourceSchema.safeParse({ ...(object as object), status: undefined });
    if (withoutStatus.success) return withoutStatus.data;
    this.options.logger.warn({ issues: parsed.error.issues }, 'ignoring a Quiz object that does not parse');
    return undefined;
  }

  private store(resource: QuizResource): void {
    const key = keyOf(resource);
    const old = this.cache.get(key);
    this.cache.set(key, resource);
    if (old?.metadata.resourceVersion !== resource.metadata.resourceVersion) this.onChange(key);
  }

  /** A write's answer is newer than the cache: keep it, so the next reconcile does not read stale state. */
  private written(object: unknown): QuizResource {
    const resource = this.parse(object);
    if (!resource) throw new Error('the API server answered with an object that is not a Quiz');
    const cached = this.cache.get(keyOf(resource));
    if (!cached || Number(cached.metadata.resourceVersion) < Number(resource.metadata.resourceVersion))
      this.cache.set(keyOf(resource), resource);
    return resource;
  }

  async setFinalizers(resource: QuizResource, finalizers: string[]): Promise<QuizResource> {
    return this.replace(resource, 'finalizers', (target) =>
      // resourceVersion included: the API server refuses (409) a write based on an old read.
      this.objects.replaceNamespacedCustomObject({
        ...target,
        body: { ...resource, metadata: { ...resource.metadata, finalizers } },
      }),
    );
  }

  async updateStatus(resource: QuizResource, status: QuizResourceStatus): Promise<QuizResource> {
    return this.replace(resource, 'status', (target) =>
      this.objects.replaceNamespacedCustomObjectStatus({ ...target, body: { ...resource, status } }),
    );
  }

  /** Writes `what` of the resource; a 409 becomes a ConflictError, the answer updates the cache. */
  private async replace(
    resource: QuizResource,
    what: string,
    write: (target: {
      group: string;
      version: string;
      plural: string;
      namespace: string;
      name: string;
    }) => Promise<unknown>,
  ): Promise<QuizResource> {
    try {
      return this.written(
        await write({
          group,
          version,
          plural,
          namespace: resource.metadata.namespace ?? this.options.namespace,
          name: resource.metadata.name,
        }),
      );
    } catch (err) {
      throw this.conflictOr(err, what);
    }
  }

  private conflictOr(err: unknown, what: string): unknown {
    if (err instanceof ApiException && err.code === 409) return new ConflictError(what);
    // Gone meanwhile: nothing left to reconcile.
    if (err instanceof ApiException && err.code === 404) return new ConflictError(`${what} (the resource is gone)`);
    return err;
  }

  async recordEvent(resource: QuizResource, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = resource.metadata.namespace ?? this.options.namespace;
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${resource.metadata.name}.`, namespace },
        involvedObject: {
          apiVersion: resource.apiVersion,
          kind: resource.kind,
          name: resource.metadata.name,
          namespace,
          ...(resource.metadata.uid ? { uid: resource.metadata.uid } : {}),
          ...(resource.metadata.resourceVersion ? { resourceVersion: resource.metadata.resourceVersion } : {}),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'quizmesh-operator' },
        reportingComponent: 'quizmesh.io/operator',
        reportingInstance: this.options.reportingInstance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
