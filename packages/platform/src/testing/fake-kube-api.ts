/**
 * An in-process stand-in for the Kubernetes API server, for tests of code that uses
 * @kubernetes/client-node over HTTP (no kube-apiserver runs on dev or CI machines). It follows the
 * documented API conventions that controllers rely on
 * (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md,
 * https://kubernetes.io/docs/reference/using-api/api-concepts/):
 *
 * - one resourceVersion counter for everything; list answers carry the current one;
 * - watch from a resourceVersion replays later changes, then streams; a resourceVersion older than
 *   the kept history (see `compact()`) gets an ERROR event with code 410 (Gone), as the real server
 *   does; `allowWatchBookmarks` gets BOOKMARK events (`bookmark()`, and every `bookmarkIntervalMs`);
 *   `timeoutSeconds` ends the watch;
 * - optimistic concurrency: an update must carry metadata.resourceVersion and is refused with 409
 *   when it is not the stored one; create of an existing name is 409 AlreadyExists;
 * - the status subresource: PUT …/status changes only status, a PUT of the object never does;
 *   metadata.generation grows only when spec changes;
 * - finalizers: DELETE of an object with finalizers sets deletionTimestamp; the update that removes
 *   the last finalizer deletes it; a deleting object takes no new finalizers;
 * - Leases (coordination.k8s.io/v1) and Events (v1, with metadata.generateName) are plain objects.
 *
 * Not implemented: PATCH (415), label/field selectors, cluster-scoped resources, admission/schema
 * validation. Every request is recorded in `requests`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    [key: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
};

interface Collection {
  /** e.g. "apis/quizmesh.io/v1alpha1/quizzes", "api/v1/events" */
  id: string;
  kind: string;
  apiVersion: string;
  /** true for resources whose status is a subresource (custom resources with subresources.status) */
  statusSubresource: boolean;
}

interface WatchEvent {
  rv: number;
  collection: string;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Watcher {
  collection: string;
  namespace: string;
  res: ServerResponse;
  bookmarks: boolean;
}

export interface FakeKubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface FakeKubeApiOptions {
  /** custom resources to serve (all with a status subresource) */
  customResources?: Array<{ group: string; version: string; plural: string; kind: string }>;
  /** send a BOOKMARK to every watcher that asked for them this often (0: only on `bookmark()`) */
  bookmarkIntervalMs?: number;
  /** runs before a write is applied (tests use it to interleave a concurrent change) */
  beforeWrite?: (write: {
    method: string;
    collection: string;
    namespace: string;
    name: string | undefined;
    subresource: string | undefined;
  }) => void | Promise<void>;
}

const clone = <T>(value: T): T => structuredClone(value);

export class FakeKubeApi {
  readonly requests: FakeKubeRequest[] = [];
  private readonly collections = new Map<string, Collection>();
  private readonly store = new Map<string, KubeObject>();
  private history: WatchEvent[] = [];
  /** the oldest resourceVersion a watch may resume from */
  private compactedAt = 0;
  private rv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  beforeWrite: FakeKubeApiOptions['beforeWrite'];
  url = '';

  constructor(private readonly options: FakeKubeApiOptions = {}) {
    this.beforeWrite = options.beforeWrite;
    for (const cr of options.customResources ?? []) {
      this.collections.set(`apis/${cr.group}/${cr.version}/${cr.plural}`, {
        id: `apis/${cr.group}/${cr.version}/${cr.plural}`,
        kind: cr.kind,
        apiVersion: `${cr.group}/${cr.version}`,
        statusSubresource: true,
      });
    }
    this.collections.set('apis/coordination.k8s.io/v1/leases', {
      id: 'apis/coordination.k8s.io/v1/leases',
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      statusSubresource: false,
    });
    this.collections.set('api/v1/events', {
      id: 'api/v1/events',
      kind: 'Event',
      apiVersion: 'v1',
      statusSubresource: false,
    });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.fail(res, 500, 'InternalError', String(err));
        else res.end();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    if (this.options.bookmarkIntervalMs) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), this.options.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
    return this;
  }

  async stop(): Promise<void> {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The current resourceVersion. */
  resourceVersion(): string {
    return String(this.rv);
  }

  /** Forgets the change history: watches from any earlier resourceVersion now get 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  /** Ends every open watch (as an API server does at its timeout or on restart). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Sends every watcher that asked for bookmarks a BOOKMARK at the current resourceVersion. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const c = this.collections.get(w.collection);
      w.res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: c?.kind, apiVersion: c?.apiVersion, metadata: { resourceVersion: String(this.rv) } } })}\n`,
      );
    }
  }

  /** Objects of a collection ("apis/quizmesh.io/v1alpha1/quizzes") in a namespace, as stored. */
  list(collection: string, namespace: string): KubeObject[] {
    return [...this.store.entries()]
      .filter(([key]) => key.startsWith(`${collection}|${namespace}|`))
      .map(([, object]) => clone(object));
  }

  get(collection: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.store.get(`${collection}|${namespace}|${name}`);
    return found ? clone(found) : undefined;
  }

  /** Writes as a client would (create, or update with the stored resourceVersion). For test setup. */
  put(collection: string, namespace: string, object: KubeObject): KubeObject {
    const name = object.metadata.name ?? '';
    const existing = this.store.get(`${collection}|${namespace}|${name}`);
    if (!existing) return this.create(collection, namespace, object);
    return this.update(
      collection,
      namespace,
      name,
      {
        ...object,
        metadata: { ...object.metadata, resourceVersion: existing.metadata.resourceVersion },
      },
      undefined,
    );
  }

  /** Deletes as `kubectl delete` would (finalizers first). */
  remove(collection: string, namespace: string, name: string): KubeObject | undefined {
    return this.delete(collection, namespace, name);
  }

  // ------------------------------------------------------------------------------------ HTTP

  private parse(path: string) {
    // /api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]] or /apis/{g}/{v}/namespaces/{ns}/{plural}[/…]
    const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const collection = `${m[1]}/${m[3]}`;
    if (!this.collections.has(collection)) return undefined;
    return {
      collection,
      namespace: decodeURIComponent(m[2] ?? ''),
      name: m[4] ? decodeURIComponent(m[4]) : undefined,
      subresource: m[5],
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const record = (status: number) =>
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, status });
    const target = this.parse(url.pathname);
    if (!target) {
      record(404);
      return this.fail(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    }
    const { collection, namespace, name, subresource } = target;
    const method = req.method ?? 'GET';
    try {
      const body = method === 'POST' || method === 'PUT' ? await readJson(req) : undefined;
      if (method === 'GET' && !name) {
        record(200);
        if (query.watch === 'true' || query.watch === '1') return this.watch(collection, namespace, query, res);
        return this.send(res, 200, {
          kind: `${this.collections.get(collection)?.kind ?? ''}List`,
          apiVersion: this.collections.get(collection)?.apiVersion,
          metadata: { resourceVersion: String(this.rv) },
          items: this.list(collection, namespace),
        });
      }
      if (method === 'GET' && name) {
        const found = this.get(collection, namespace, name);
        if (!found) throw new ApiError(404, 'NotFound', `${collection} "${name}" not found`);
        record(200);
        return this.send(res, 200, found);
      }
      if (method === 'PATCH')
        throw new ApiError(415, 'UnsupportedMediaType', 'the fake API server does not implement PATCH');
      await this.beforeWrite?.({ method, collection, namespace, name, subresource });
      let result: KubeObject | undefined;
      if (method === 'POST' && !name) result = this.create(collection, namespace, asObject(body));
      else if (method === 'PUT' && name) result = this.update(collection, namespace, name, asObject(body), subresource);
      else if (method === 'DELETE' && name) {
        result = this.delete(collection, namespace, name);
        if (!result) throw new ApiError(404, 'NotFound', `${collection} "${name}" not found`);
      } else throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported here`);
      record(method === 'POST' ? 201 : 200);
      return this.send(res, method === 'POST' ? 201 : 200, result);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      record(err.code);
      return this.fail(res, err.code, err.reason, err.message);
    }
  }

  private watch(collection: string, namespace: string, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the API server: the watch is established before any event
    const from = query.resourceVersion ?? '';
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (from === '' || from === '0') {
      // "Any": the current state as ADDED, then changes.
      for (const object of this.list(collection, namespace)) write('ADDED', object);
    } else {
      const since = Number(from);
      if (!Number.isInteger(since) || since < this.compactedAt) {
        write('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${from} (${this.compactedAt})`,
          reason: 'Expired',
          code: 410,
        });
        res.end();
        return;
      }
      for (const e of this.history) {
        if (e.rv > since && e.collection === collection && e.namespace === namespace) write(e.type, e.object);
      }
    }
    const watcher: Watcher = { collection, namespace, res, bookmarks: query.allowWatchBookmarks === 'true' };
    this.watchers.add(watcher);
    const timeout = Number(query.timeoutSeconds ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    timer?.unref();
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }

  private emit(collection: string, namespace: string, type: WatchEvent['type'], object: KubeObject): void {
    const event: WatchEvent = { rv: this.rv, collection, namespace, type, object: clone(object) };
    this.history.push(event);
    for (const w of this.watchers) {
      if (w.collection === collection && w.namespace === namespace)
        w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
    }
  }

  private create(collection: string, namespace: string, body: KubeObject): KubeObject {
    const c = this.collections.get(collection);
    if (!c) throw new ApiError(404, 'NotFound', collection);
    let name = body.metadata?.name;
    if (!name && body.metadata?.generateName) name = `${body.metadata.generateName}${randomUUID().slice(0, 5)}`;
    if (!name) throw new ApiError(422, 'Invalid', 'metadata.name: Required value');
    const key = `${collection}|${namespace}|${name}`;
    if (this.store.has(key)) throw new ApiError(409, 'AlreadyExists', `${collection} "${name}" already exists`);
    this.rv += 1;
    const { status: _ignored, ...rest } = body;
    const object: KubeObject = {
      ...rest,
      ...(c.statusSubresource ? {} : body.status !== undefined ? { status: body.status } : {}),
      apiVersion: c.apiVersion,
      kind: c.kind,
      metadata: {
        ...body.metadata,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(this.rv),
        generation: 1,
        creationTimestamp: new Date().toISOString(),
      },
    };
    delete object.metadata.deletionTimestamp;
    this.store.set(key, object);
    this.emit(collection, namespace, 'ADDED', object);
    return clone(object);
  }

  private update(
    collection: string,
    namespace: string,
    name: string,
    body: KubeObject,
    subresource: string | undefined,
  ): KubeObject {
    const c = this.collections.get(collection);
    const key = `${collection}|${namespace}|${name}`;
    const current = this.store.get(key);
    if (!c || !current) throw new ApiError(404, 'NotFound', `${collection} "${name}" not found`);
    if (subresource !== undefined && !(subresource === 'status' && c.statusSubresource))
      throw new ApiError(404, 'NotFound', `no subresource ${subresource}`);
    const given = body.metadata?.resourceVersion;
    if (!given)
      throw new ApiError(422, 'Invalid', 'metadata.resourceVersion: Invalid value: must be specified for an update');
    if (given !== current.metadata.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${collection} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...clone(current), status: body.status };
    } else {
      const finalizers = body.metadata.finalizers ?? [];
      const deleting = current.metadata.deletionTimestamp !== undefined;
      const added = finalizers.filter((f) => !(current.metadata.finalizers ?? []).includes(f));
      if (deleting && added.length > 0)
        throw new ApiError(
          422,
          'Invalid',
          'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted',
        );
      const specChanged = JSON.stringify(body.spec) !== JSON.stringify(current.spec);
      const { status: _ignored, ...rest } = body;
      next = {
        ...rest,
        ...(c.statusSubresource
          ? current.status !== undefined
            ? { status: current.status }
            : {}
          : body.status !== undefined
            ? { status: body.status }
            : {}),
        apiVersion: c.apiVersion,
        kind: c.kind,
        metadata: {
          ...body.metadata,
          name,
          namespace,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
          ...(deleting ? { deletionTimestamp: current.metadata.deletionTimestamp } : {}),
          finalizers,
        },
      };
      if (finalizers.length === 0) delete next.metadata.finalizers;
      if (!deleting) delete next.metadata.deletionTimestamp;
      if (deleting && finalizers.length === 0) {
        this.rv += 1;
        next.metadata.resourceVersion = String(this.rv);
        this.store.delete(key);
        this.emit(collection, namespace, 'DELETED', next);
        return clone(next);
      }
    }
    this.rv += 1;
    next.metadata.resourceVersion = String(this.rv);
    this.store.set(key, next);
    this.emit(collection, namespace, 'MODIFIED', next);
    return clone(next);
  }

  private delete(collection: string, namespace: string, name: string): KubeObject | undefined {
    const key = `${collection}|${namespace}|${name}`;
    const current = this.store.get(key);
    if (!current) return undefined;
    this.rv += 1;
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return clone(current);
      const next = clone(current);
      next.metadata.deletionTimestamp = new Date().toISOString();
      next.metadata.resourceVersion = String(this.rv);
      this.store.set(key, next);
      this.emit(collection, namespace, 'MODIFIED', next);
      return clone(next);
    }
    const gone = clone(current);
    gone.metadata.resourceVersion = String(this.rv);
    this.store.delete(key);
    this.emit(collection, namespace, 'DELETED', gone);
    return gone;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, code: number, reason: string, message: string): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function asObject(body: unknown): KubeObject {
  if (!body || typeof body !== 'object' || typeof (body as { metadata?: unknown }).metadata !== 'object')
    throw new ApiError(400, 'BadRequest', 'the body must be an object with metadata');
  return body as KubeObject;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body is not JSON');
  }
}
