/**
 * Everything a service needs, built once in its entry point: logger, Dapr client,
 * subscriptions, graceful shutdown. Services stay thin: they add routes and handlers.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { DestinationStream, Logger } from 'pino';
import type { z } from 'zod';
import { loadConfigOrExit, type BaseConfig } from './config';
import { trustGatewayUser } from './caller';
import { Dapr } from './dapr';
import { createHttpApp, listen, type HttpAppOptions, type ReadinessCheck } from './http';
import { createLogger } from './logger';
import { GracefulShutdown } from './shutdown';
import { Subscriptions } from './subscriptions';
import type { Telemetry } from './telemetry';

export interface ServiceRuntimeOptions {
  service: string;
  config: BaseConfig;
  telemetry?: Telemetry;
  /** tests capture log lines here */
  logDestination?: DestinationStream;
  /** tests replace process.exit */
  exit?: (code: number) => void;
}

export class ServiceRuntime {
  readonly service: string;
  readonly config: BaseConfig;
  readonly logger: Logger;
  readonly dapr: Dapr;
  readonly subscriptions: Subscriptions;
  readonly shutdown: GracefulShutdown;

  constructor(options: ServiceRuntimeOptions) {
    this.service = options.service;
    this.config = options.config;
    this.logger = createLogger({
      service: options.service,
      level: options.config.LOG_LEVEL,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    this.shutdown = new GracefulShutdown({
      logger: this.logger,
      timeoutMs: options.config.SHUTDOWN_TIMEOUT_MS,
      ...(options.exit ? { exit: options.exit } : {}),
    });
    // Registered first so it runs last: spans of the final requests still get exported.
    const telemetry = options.telemetry;
    if (telemetry?.enabled) this.shutdown.onShutdown('telemetry', () => telemetry.shutdown());
    // Now, not at the first import: every module is loaded and nothing that is traced exists yet.
    telemetry?.instrument();
    this.dapr = new Dapr({
      host: options.config.DAPR_HOST,
      httpPort: options.config.DAPR_HTTP_PORT,
      apiToken: options.config.DAPR_API_TOKEN,
      logger: this.logger.child({ component: 'dapr-sdk' }),
    });
    this.shutdown.onShutdown('dapr client', () => this.dapr.close());
    this.subscriptions = new Subscriptions(this.logger);
  }

  /** The service's Express app with the platform's middleware, probes and error handling. */
  createApp(
    options: Pick<HttpAppOptions, 'routes' | 'beforeBodyParsing'> & {
      readiness?: Record<string, ReadinessCheck>;
      /** false for services that must answer before their sidecar is up (none today) */
      checkSidecar?: boolean;
      /**
       * true for the gateway, the one app clients call directly: it checks APP_API_TOKEN only on
       * the routes its sidecar calls. Every other app answers only its sidecar.
       */
      publicEntry?: boolean;
    },
  ): Express {
    const sidecarToken = options.publicEntry ? undefined : this.config.APP_API_TOKEN;
    if (!options.publicEntry && sidecarToken === undefined)
      this.logger.warn('APP_API_TOKEN is not set: any local process can call this service and claim to be the gateway');
    const readiness: Record<string, ReadinessCheck> = {
      ...(options.checkSidecar === false ? {} : { sidecar: () => this.dapr.checkSidecar() }),
      ...options.readiness,
    };
    return createHttpApp({
      service: this.service,
      logger: this.logger,
      jsonBodyLimit: this.config.JSON_BODY_LIMIT,
      readiness,
      shutdown: this.shutdown,
      ...(sidecarToken !== undefined ? { sidecarToken } : {}),
      ...(options.beforeBodyParsing ? { beforeBodyParsing: options.beforeBodyParsing } : {}),
      routes: (app) => {
        app.use(trustGatewayUser({ appApiToken: this.config.APP_API_TOKEN }));
        this.subscriptions.mountDiscovery(app);
        options.routes(app);
      },
    });
  }

  /** Listens (config.PORT unless given), registers the server for draining, logs the address. */
  async listen(app: Express, port: number = this.config.PORT, host?: string): Promise<Server> {
    const server = await listen(app, port, host ?? this.config.LISTEN_ADDRESS);
    // Longer than typical load-balancer idle timeouts, so the proxy closes first.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    this.shutdown.addServer(server);
    const address = server.address();
    this.logger.info({ port: typeof address === 'object' && address ? address.port : port }, 'listening');
    return server;
  }

  /** For entry points: SIGTERM/SIGINT start the graceful shutdown. */
  handleSignals(): this {
    this.shutdown.handleSignals();
    return this;
  }
}

/**
 * A service's entry point (src/main.ts): its config (or exit with the variables named), the
 * runtime with signal handling, the app its composition root builds, listening; a start that
 * fails exits 1.
 */
export function runService<T extends z.ZodType<BaseConfig>>(options: {
  service: string;
  schema: T;
  telemetry?: Telemetry;
  create: (runtime: ServiceRuntime, config: z.infer<T>) => { app: Express } | Promise<{ app: Express }>;
}): void {
  const { service, schema, telemetry, create } = options;
  const start = async () => {
    const config = loadConfigOrExit(service, schema);
    const runtime = new ServiceRuntime({ service, config, telemetry }).handleSignals();
    const { app } = await create(runtime, config);
    await runtime.listen(app);
  };
  start().catch((err: unknown) => {
    console.error(`${service}: failed to start:`, err);
    process.exit(1);
  });
}
