/**
 * startSidecar(): a local stand-in for daprd, and the composition root of this package. Loads
 * resources, initialises components, serves the Dapr HTTP API (api/), registers in the local
 * name resolution for service invocation, then waits for the app before starting pub/sub and
 * input bindings. Everything it opens goes on one cleanup stack, unwound by a failed start and
 * by close().
 */
import type { Logger, LevelWithSilent } from 'pino';
import { startApiServer } from './api/server';
import { createRouter } from './api/router';
import { LocalAppChannel, type AppHealthCheckOptions } from './app-channel/channel';
import { createKeepAliveAgent } from './app-channel/http-client';
import { startInputBindings } from './bindings/input';
import { CleanupStack } from './cleanup-stack';
import { initComponents } from './components';
import { errorMessage } from './errors';
import type { InvokeDeps } from './invoke/api';
import { defaultRegistryDir, InstancePicker, SidecarRegistry, type RegistryEntry } from './invoke/registry';
import { createLogger } from './logger';
import { MetadataApi } from './metadata/api';
import { createPubSubRuntime } from './pubsub';
import { Resiliency } from './resiliency/lookup';
import { emptyResiliency, loadConfiguration, loadResources } from './resources/loader';

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

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const env = options.env ?? process.env;
  const appId = options.appId;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(appId))
    throw new Error(`invalid app id "${appId}": use letters, digits, ".", "_" and "-"`);
  const logger = options.logger ?? createLogger(appId, options.logLevel ?? 'info');
  const namespace = env.NAMESPACE || undefined;
  const appChannelAddress = options.appChannelAddress ?? '127.0.0.1';

  const configuration = options.configPath ? loadConfiguration(options.configPath) : undefined;
  const resources = options.resourcesPaths?.length
    ? loadResources(options.resourcesPaths, appId, (msg) => logger.warn(msg))
    : { components: [], subscriptions: [], resiliency: emptyResiliency() };
  const resiliency = new Resiliency(resources.resiliency);

  const cleanups = new CleanupStack();
  let initialised = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      initialised = false;
      await cleanups.unwind(logger);
      logger.info('dapr sidecar stopped');
    })();
    return closing;
  };

  const agent = createKeepAliveAgent();
  cleanups.push('sidecar-to-sidecar connections', () => agent.destroy());
  const components = await initComponents(resources.components, { appId, namespace, logger, env });
  cleanups.push('components', () => components.close());
  const app = new LocalAppChannel(
    appId,
    appChannelAddress,
    options.appPort,
    env.APP_API_TOKEN || undefined,
    options.appHealthCheck,
    logger,
  );
  const registryDir = options.registryDir ?? defaultRegistryDir(env);
  const registry = new SidecarRegistry(registryDir);
  let registration: RegistryEntry | undefined;
  try {
    const pubsub = await createPubSubRuntime({
      appId,
      registryDir,
      components: components.pubsub,
      declarativeSubscriptions: resources.subscriptions,
      app,
      resiliency,
      logger,
    });
    cleanups.push('pub/sub', () => pubsub.close());
    const invoke: InvokeDeps = {
      appId,
      namespace,
      registry,
      instances: new InstancePicker(registry),
      self: () => registration,
      app,
      agent,
      resiliency,
      accessControl: configuration?.accessControl,
      sampled: (configuration?.samplingRate ?? 0) > 0,
      logger,
    };
    const metadata = new MetadataApi({
      appId,
      runtimeVersion: DAPR_API_VERSION,
      components,
      pubsub,
      appPort: options.appPort,
      appChannelAddress,
      appHealthCheck: options.appHealthCheck,
    });
    const route = createRouter({
      appId,
      components,
      resiliency,
      pubsub,
      invoke,
      metadata,
      initialised: () => initialised,
      shutdown: () => void close().then(() => options.onShutdownRequest?.()),
    });
    const server = await startApiServer({
      port: options.daprHttpPort ?? 3500,
      address: options.listenAddress ?? '127.0.0.1',
      apiToken: env.DAPR_API_TOKEN || undefined,
      maxRequestBodyBytes: options.maxRequestBodyBytes ?? 4 * 1024 * 1024,
      route,
      logger,
    });
    cleanups.push('Dapr API server', () => server.close());
    // Stop talking to the app before the API drains: in-flight calls to it end now.
    cleanups.push('app channel', () => app.close());
    // Replicas of one app id register side by side, one entry per pod (POD_NAME, as injected).
    const entry = registry.register(appId, server.port, env.POD_NAME || appId, app.isHealthy());
    registration = entry;
    cleanups.push('registration', () => registry.unregister(entry));
    app.onHealthChange((healthy) => {
      if (!closing) registry.setAppHealthy(entry, healthy);
    });
    logger.info(
      { httpPort: server.port, appPort: options.appPort, components: components.all.map((c) => c.spec.name) },
      'dapr API listening',
    );

    const ready = (async () => {
      await app.waitUntilReady();
      if (closing) return;
      await pubsub.start();
      await startInputBindings({ components, app, resiliency, logger });
      initialised = true;
      logger.info('dapr sidecar initialised');
    })();
    ready.catch((err: unknown) => {
      if (!closing) logger.error({ err: errorMessage(err) }, 'sidecar initialisation failed');
    });
    return { appId, httpPort: server.port, ready, close };
  } catch (err) {
    app.close();
    await cleanups.unwind(logger);
    throw err;
  }
}
