/**
 * startSidecar(): a local stand-in for daprd. Loads resources, initialises components,
 * serves the Dapr HTTP API on node:http, registers in the local registry for service
 * invocation, then waits for the app before starting pub/sub and input bindings.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, LevelWithSilent } from 'pino';
import { LocalAppChannel, type AppHealthCheckOptions } from './app-channel';
import { initComponents, type ComponentSet } from './components';
import type { ApiResult, PubSubRuntime } from './contracts';
import { DaprApiError, errorMessage, notImplemented } from './errors';
import { createKeepAliveAgent } from './http/client';
import {
  handleInternalInvoke,
  INTERNAL_INVOKE_PREFIX,
  invokeApp,
  type IncomingCall,
  type InvokeDeps,
} from './http/invoke-api';
import { getBulkSecrets, getSecret, invokeOutputBinding } from './http/misc-api';
import { daprError, sendResult } from './http/respond';
import { bulkGetState, deleteState, getState, saveState, transactState } from './http/state-api';
import { defaultRegistryDir, SidecarRegistry, type RegistryEntry } from './invoke/registry';
import { createLogger } from './logger';
import { createPubSubRuntime } from './pubsub';
import { Resiliency } from './resiliency/lookup';
import { StatusFailure, TargetPolicyRunner } from './resiliency/policy';
import { emptyResiliency, loadConfiguration, loadResources } from './resources/loader';
import type { ConfigurationSpec } from './resources/types';

/**
 * The daprd version this sidecar emulates (its HTTP API, and the dapr/components-contrib rules
 * read at that tag). It must equal the chart's `quizmesh.io/dapr-version` annotation, the one
 * place the Dapr version is pinned (checked by packages/deploy-checks/test/dapr-version.test.ts).
 */
export const DAPR_API_VERSION = '1.16.2';

export interface SidecarOptions {
  appId: string;
  /** the app's port; without it there is no app channel (no invocation to this app, no deliveries) */
  appPort?: number;
  /** default 127.0.0.1 */
  appChannelAddress?: string;
  /** Dapr API port; 0 picks a free one. Default 3500. */
  daprHttpPort?: number;
  /** default 127.0.0.1 */
  listenAddress?: string;
  resourcesPaths?: string[];
  /** a Configuration YAML file (`--config`) */
  configPath?: string;
  logLevel?: LevelWithSilent;
  logger?: Logger;
  /** environment for DAPR_API_TOKEN, APP_API_TOKEN, NAMESPACE, envRef and secretstores.local.env. Default process.env. */
  env?: NodeJS.ProcessEnv;
  appHealthCheck?: AppHealthCheckOptions;
  /** default $QUIZMESH_SIDECAR_REGISTRY or <tmp>/quizmesh-sidecars */
  registryDir?: string;
  /** default 4 MiB, like daprd's --dapr-http-max-request-size */
  maxRequestBodyBytes?: number;
  /** called after `POST /v1.0/shutdown` has closed the sidecar (the CLI exits the process) */
  onShutdownRequest?: () => void;
}

export interface RunningSidecar {
  appId: string;
  httpPort: number;
  /** resolves once the app is reachable and pub/sub and input bindings have started (healthz 204) */
  ready: Promise<void>;
  close(): Promise<void>;
}

const NOT_IMPLEMENTED: Array<[RegExp, string]> = [
  [/^\/v1\.0\/actors(\/|$)/, 'the actors API'],
  [/^\/v1\.0-(alpha1|beta1)\/workflows?(\/|$)/, 'the workflow API'],
  [/^\/v1\.0(-alpha1)?\/configuration(\/|$)/, 'the configuration API'],
  [/^\/v1\.0-alpha1\/(lock|unlock)(\/|$)/, 'the distributed lock API'],
  [/^\/v1\.0-alpha1\/crypto(\/|$)/, 'the cryptography API'],
  [/^\/v1\.0-alpha1\/jobs(\/|$)/, 'the jobs API'],
  [/^\/v1\.0-alpha\d\/conversation(\/|$)/, 'the conversation API'],
  [/^\/v1\.0-(alpha1|beta1)\/state\/[^/]+\/query$/, 'the state query API'],
  [/^\/v1\.0-alpha1\/subscribe(\/|$)/, 'streaming subscriptions'],
  [/^\/v1\.0\/reminders(\/|$)/, 'reminders'],
];

function metadataFromQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k.startsWith('metadata.') && !(k.slice(9) in out)) out[k.slice(9)] = v;
  }
  return out;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new DaprApiError(413, 'ERR_MALFORMED_REQUEST', `request body exceeds the limit of ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DaprApiError(400, 'ERR_MALFORMED_REQUEST', `invalid URL encoding in "${segment}"`);
  }
}

/** The app id of a request sent to a non-API path with `dapr-app-id` or Basic auth `dapr-app-id:X`. */
function appIdFromHeaders(headers: http.IncomingHttpHeaders): string | undefined {
  const header = headers['dapr-app-id'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('basic ')) {
    const [user, password] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    if (user === 'dapr-app-id' && password !== undefined && password !== '') return password;
  }
  return undefined;
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const env = options.env ?? process.env;
  const appId = options.appId;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(appId))
    throw new Error(`invalid app id "${appId}": use letters, digits, ".", "_" and "-"`);
  const logger = options.logger ?? createLogger(appId, options.logLevel ?? 'info');
  const namespace = env.NAMESPACE || undefined;
  const apiToken = env.DAPR_API_TOKEN || undefined;
  const maxBody = options.maxRequestBodyBytes ?? 4 * 1024 * 1024;

  const configuration: ConfigurationSpec | undefined = options.configPath
    ? loadConfiguration(options.configPath)
    : undefined;
  const resources = options.resourcesPaths?.length
    ? loadResources(options.resourcesPaths, appId, (msg) => logger.warn(msg))
    : { components: [], subscriptions: [], resiliency: emptyResiliency() };
  const resiliency = new Resiliency(resources.resiliency);
  const components: ComponentSet = await initComponents(resources.components, { appId, namespace, logger, env });

  const app = new LocalAppChannel(
    appId,
    options.appChannelAddress ?? '127.0.0.1',
    options.appPort,
    env.APP_API_TOKEN || undefined,
    options.appHealthCheck,
    logger,
  );
  const registryDir = options.registryDir ?? defaultRegistryDir(env);
  let pubsub: PubSubRuntime;
  try {
    pubsub = await createPubSubRuntime({
      appId,
      registryDir,
      components: components.pubsub,
      declarativeSubscriptions: resources.subscriptions,
      app,
      resiliency,
      logger,
    });
  } catch (err) {
    app.close();
    await components.close();
    throw err;
  }

  const registry = new SidecarRegistry(registryDir);
  let registration: RegistryEntry | undefined;
  const agent = createKeepAliveAgent();
  const invokeDeps: InvokeDeps = {
    appId,
    namespace,
    registry,
    self: () => registration,
    app,
    agent,
    resiliency,
    accessControl: configuration?.accessControl,
    sampled: (configuration?.samplingRate ?? 0) > 0,
    logger,
  };
  const deps = { components, resiliency };
  const extendedMetadata: Record<string, string> = {};
  let initialised = false;
  let closing: Promise<void> | undefined;

  const metadataBody = (): object => {
    const described = pubsub.describe();
    const body: Record<string, unknown> = {
      id: appId,
      runtimeVersion: DAPR_API_VERSION,
      extended: { ...extendedMetadata, daprRuntimeVersion: DAPR_API_VERSION, localSidecar: 'quizmesh' },
      components: components.all.map(({ spec, capabilities }) => {
        const c: Record<string, unknown> = { name: spec.name, type: spec.type, version: spec.version };
        if (capabilities.length > 0) c.capabilities = capabilities;
        return c;
      }),
      subscriptions: described.subscriptions.map((s) => {
        const sub: Record<string, unknown> = {
          pubsubname: s.pubsubname,
          topic: s.topic,
          rules: s.rules.map((r) => (r.match === '' ? { path: r.path } : { match: r.match, path: r.path })),
          deadLetterTopic: s.deadLetterTopic ?? '',
          type: s.origin === 'declarative' ? 'DECLARATIVE' : 'PROGRAMMATIC',
        };
        if (Object.keys(s.metadata).length > 0) sub.metadata = s.metadata;
        return sub;
      }),
    };
    // Pub/sub components are listed by the pub/sub runtime only if it did not appear above.
    const known = new Set(components.all.map((c) => c.spec.name));
    for (const c of described.components) {
      if (!known.has(c.name)) (body.components as object[]).push({ name: c.name, type: c.type, version: c.version });
    }
    if (options.appPort !== undefined) {
      const props: Record<string, unknown> = {
        port: options.appPort,
        protocol: 'http',
        channelAddress: options.appChannelAddress ?? '127.0.0.1',
      };
      if (options.appHealthCheck) {
        props.health = {
          healthCheckPath: options.appHealthCheck.path,
          healthProbeInterval: `${options.appHealthCheck.intervalMs / 1000}s`,
          healthProbeTimeout: `${options.appHealthCheck.timeoutMs}ms`,
          healthThreshold: options.appHealthCheck.threshold,
        };
      }
      body.appConnectionProperties = props;
    }
    return body;
  };

  const route = async (
    req: http.IncomingMessage,
    path: string,
    rawQuery: string,
    body: Buffer,
    callerGone: AbortSignal,
  ): Promise<ApiResult> => {
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(rawQuery);
    const seg = path.split('/').slice(1);
    const [version, api, a, b] = seg;
    const post = method === 'POST' || method === 'PUT';
    const call = (targetMethod: string): IncomingCall => ({
      method,
      headers: req.headers,
      body,
      targetMethod,
      query: rawQuery,
      callerGone,
    });

    if (path.startsWith(INTERNAL_INVOKE_PREFIX))
      return handleInternalInvoke(invokeDeps, call(path.slice(INTERNAL_INVOKE_PREFIX.length)));
    if (version === 'v1.0') {
      switch (api) {
        case 'healthz':
          if (method !== 'GET') break;
          if (a === 'outbound' && seg.length === 3) return { status: 204 };
          if (seg.length !== 2) break;
          if (query.has('appid') && query.get('appid') !== appId)
            return daprError(500, 'ERR_HEALTH_APPID_NOT_MATCH', 'dapr app-id does not match');
          return initialised ? { status: 204 } : daprError(500, 'ERR_HEALTH_NOT_READY', 'dapr is not ready');
        case 'metadata':
          if (seg.length === 2 && method === 'GET') return { status: 200, body: metadataBody() };
          if (seg.length === 3 && a !== undefined && method === 'PUT') {
            extendedMetadata[decode(a)] = body.toString('utf8');
            return { status: 204 };
          }
          break;
        case 'shutdown':
          if (seg.length === 2 && (method === 'POST' || method === 'PUT')) {
            setImmediate(() => {
              void close().then(() => options.onShutdownRequest?.());
            });
            return { status: 204 };
          }
          break;
        case 'state':
          if (a === undefined) break;
          if (seg.length === 3 && post) return saveState(deps, decode(a), body, metadataFromQuery(query));
          if (seg.length === 4 && b !== undefined) {
            if (b === 'bulk' && post) return bulkGetState(deps, decode(a), body);
            if (b === 'transaction' && post) return transactState(deps, decode(a), body, metadataFromQuery(query));
            if (method === 'GET') return getState(deps, decode(a), decode(b));
            if (method === 'DELETE') {
              const ifMatch = req.headers['if-match'];
              return deleteState(deps, decode(a), decode(b), typeof ifMatch === 'string' ? ifMatch : undefined, query);
            }
          }
          break;
        case 'publish':
          if (a === undefined || !post) break;
          if (seg.length < 4 || seg.slice(3).join('/') === '')
            return daprError(404, 'ERR_TOPIC_NAME_EMPTY', `topic is empty in pubsub ${decode(a)}`);
          return pubsub.publish({
            pubsubName: decode(a),
            topic: decode(seg.slice(3).join('/')),
            body,
            contentType: req.headers['content-type'],
            metadata: metadataFromQuery(query),
            traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
            tracestate: typeof req.headers.tracestate === 'string' ? req.headers.tracestate : undefined,
          });
        case 'invoke':
          if (a !== undefined && b === 'method') return invokeApp(invokeDeps, a, call(seg.slice(4).join('/')));
          break;
        case 'secrets':
          if (a === undefined || b === undefined || seg.length !== 4 || method !== 'GET') break;
          return b === 'bulk' ? getBulkSecrets(deps, decode(a)) : getSecret(deps, decode(a), decode(b));
        case 'bindings':
          if (a !== undefined && seg.length === 3 && post) return invokeOutputBinding(deps, decode(a), body);
          break;
        default:
      }
    }
    if (version === 'v1.0-alpha1' && api === 'publish' && a === 'bulk' && post && b !== undefined) {
      return pubsub.publishBulk({
        pubsubName: decode(b),
        topic: decode(seg.slice(4).join('/')),
        body,
        metadata: metadataFromQuery(query),
      });
    }
    for (const [pattern, what] of NOT_IMPLEMENTED) if (pattern.test(path)) return notImplemented(what);
    const headerAppId = appIdFromHeaders(req.headers);
    if (headerAppId !== undefined) return invokeApp(invokeDeps, headerAppId, call(path.slice(1)));
    if (
      version !== undefined &&
      /^v1\.0/.test(version) &&
      api !== undefined &&
      ['healthz', 'metadata', 'shutdown', 'state', 'publish', 'invoke', 'secrets', 'bindings'].includes(api)
    ) {
      return { status: 405, headers: { 'content-type': 'text/plain' }, body: 'Method Not Allowed' };
    }
    return daprError(
      404,
      'ERR_DIRECT_INVOKE',
      'failed getting app id either from the URL path or the header dapr-app-id',
    );
  };

  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    if (
      apiToken !== undefined &&
      req.headers['dapr-api-token'] !== apiToken &&
      !path.startsWith('/v1.0/healthz') &&
      !path.startsWith(INTERNAL_INVOKE_PREFIX)
    ) {
      req.resume();
      sendResult(res, { status: 401, headers: { 'content-type': 'text/plain' }, body: 'invalid api token' });
      return;
    }
    // Aborted when the caller closes the connection before its answer was sent (daprd: the
    // request's context is cancelled), so an invocation stops retrying for nobody.
    const callerGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort(new Error('the caller closed the connection'));
    });
    readBody(req, maxBody)
      .then((body) => route(req, path, rawQuery, body, callerGone.signal))
      .catch((err: unknown) => {
        if (err instanceof DaprApiError) return err.toResult();
        if (err instanceof StatusFailure) return daprError(500, 'ERR_INTERNAL', err.message);
        logger.error({ err: errorMessage(err), path }, 'unhandled error in the sidecar API');
        return daprError(500, 'ERR_INTERNAL', errorMessage(err));
      })
      .then(
        (result) => {
          if (!res.headersSent && !res.destroyed) sendResult(res, result);
        },
        () => res.destroy(),
      );
  });

  const requestedPort = options.daprHttpPort ?? 3500;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(requestedPort, options.listenAddress ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    app.close();
    await pubsub.close().catch(() => undefined);
    await components.close();
    throw new Error(`cannot listen on --dapr-http-port ${requestedPort}: ${errorMessage(err)}`, { cause: err });
  }
  const httpPort = (server.address() as AddressInfo).port;
  try {
    registration = registry.register(appId, httpPort);
  } catch (err) {
    server.close();
    app.close();
    await pubsub.close().catch(() => undefined);
    await components.close();
    throw err;
  }
  logger.info(
    { httpPort, appPort: options.appPort, components: components.all.map((c) => c.spec.name) },
    'dapr API listening',
  );

  const startInputBindings = async (): Promise<void> => {
    for (const [name, entry] of components.inputBindings) {
      const probe = await app.request('OPTIONS', entry.route, {}, undefined).catch((err: unknown) => {
        logger.warn({ binding: name, err: errorMessage(err) }, 'input binding route probe failed');
        return undefined;
      });
      if (!probe || !((probe.status >= 200 && probe.status < 300) || probe.status === 405)) {
        logger.info(
          { binding: name, route: entry.route, status: probe?.status },
          'app does not listen on the input binding route; binding not started',
        );
        continue;
      }
      const policy = resiliency.componentInbound(name, entry.spec.type);
      const hasRetry = policy instanceof TargetPolicyRunner && policy.parts.retry !== undefined;
      entry.binding.start(async (data, headers) => {
        if (!app.isHealthy()) return;
        try {
          await policy.run(async (signal) => {
            const res = await app.request(
              'POST',
              entry.route,
              { ...headers, 'content-type': 'application/json' },
              data,
              signal,
            );
            // daprd: any 2xx is success, but under a retry policy only 200 counts.
            if (res.status !== 200 && !(res.status >= 200 && res.status < 300 && !hasRetry))
              throw new StatusFailure(res.status, undefined);
          });
        } catch (err) {
          logger.warn({ binding: name, err: errorMessage(err) }, 'input binding delivery failed');
        }
      });
      logger.info({ binding: name, route: entry.route }, 'input binding started');
    }
  };

  const ready = (async () => {
    await app.waitUntilReady();
    if (closing) return;
    await pubsub.start();
    await startInputBindings();
    initialised = true;
    logger.info('dapr sidecar initialised');
  })();
  ready.catch((err: unknown) => {
    if (!closing) logger.error({ err: errorMessage(err) }, 'sidecar initialisation failed');
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      initialised = false;
      if (registration) registry.unregister(registration);
      app.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await pubsub
        .close()
        .catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'pub/sub did not close cleanly'));
      await components.close();
      agent.destroy();
      logger.info('dapr sidecar stopped');
    })();
    return closing;
  };

  return { appId, httpPort, ready, close };
}
