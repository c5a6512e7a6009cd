/**
 * A gateway wired as in production, in-process: the real gateway app and HTTP server, its
 * real local sidecar, and one real sidecar per upstream app. The upstream apps are small
 * HTTP servers the test scripts (identity's JWKS included: the test plays identity).
 */
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, ServiceRuntime } from '@quizmesh/platform';
import { startSidecar, type RunningSidecar } from '@quizmesh/sidecar';
import { gatewayConfigSchema, type GatewayConfig } from '../../src/config';
import { createGateway, type Gateway } from '../../src/gateway';
import { createGatewayServer } from '../../src/server';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: ReceivedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface Upstream {
  requests: ReceivedRequest[];
  /** replaces the app's behaviour */
  handle(handler: Handler): void;
  /** stops the app (its sidecar keeps running, as when a pod dies) */
  stop(): Promise<void>;
}

/** Short timeouts so "slow" and "down" tests finish quickly; the breaker trips after 3 consecutive failures. */
export const TEST_RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: gateway-test
spec:
  policies:
    timeouts:
      invoke: 1s
  # As in components/common: no Dapr breakers on app targets (the gateway has its own, decision 0720).
  targets:
    apps:
      identity: { timeout: invoke }
      quiz: { timeout: invoke }
      evaluation: { timeout: invoke }
`;

export const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Echoes what the app received: method, path, the headers that matter and the body. */
export const echo: Handler = (req, res) => {
  json(res, 200, { method: req.method, url: req.url, headers: req.headers, body: req.body });
};

async function startApp(initial: Handler): Promise<{ port: number; upstream: Upstream; close(): Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  let handler = initial;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      // Probes of the sidecar are not what tests look at.
      if (received.url !== '/healthz') requests.push(received);
      Promise.resolve(handler(received, res)).catch((err: unknown) => json(res, 500, { error: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let stopped = false;
  const close = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port: (server.address() as AddressInfo).port,
    upstream: { requests, handle: (h) => (handler = h), stop: close },
    close,
  };
}

export interface SidecarTap {
  port: number;
  /** what the gateway sent to its sidecar (method, path, headers; bodies are not kept) */
  requests: Array<Omit<ReceivedRequest, 'body'>>;
  close(): Promise<void>;
}

/**
 * A pass-through between the gateway and its sidecar that records what the gateway sends:
 * the gateway's half of the contract, asserted without relying on what the sidecar forwards.
 */
async function startSidecarTap(sidecarPort: number): Promise<SidecarTap> {
  const requests: SidecarTap['requests'] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const forwarded = http.request(
      { host: '127.0.0.1', port: sidecarPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HarnessOptions {
  /** upstream app id → its initial behaviour */
  apps: Record<string, Handler>;
  /** gateway environment on top of the test defaults */
  env?: Record<string, string>;
  resiliency?: string;
  /** more resource files (name → YAML) for every sidecar: pub/sub components, Subscriptions */
  resources?: Record<string, string>;
  /** environment of the gateway's sidecar (POD_NAME, APP_API_TOKEN) */
  gatewaySidecarEnv?: NodeJS.ProcessEnv;
}

export interface Harness {
  url: string;
  port: number;
  config: GatewayConfig;
  gateway: Gateway;
  upstreams: Record<string, Upstream>;
  tap: SidecarTap;
  /** the gateway's runtime: its graceful shutdown drains the gateway's server */
  runtime: ServiceRuntime;
  /** the folder of resource files every sidecar loaded */
  resourcesDir: string;
  /** the gateway's log lines (JSON) */
  logs: string[];
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'qm-gateway-'));
  const registryDir = join(dir, 'registry');
  const resourcesDir = join(dir, 'resources');
  for (const d of [registryDir, resourcesDir]) mkdirSync(d);
  writeFileSync(join(resourcesDir, 'resiliency.yaml'), options.resiliency ?? TEST_RESILIENCY);
  for (const [name, text] of Object.entries(options.resources ?? {})) writeFileSync(join(resourcesDir, name), text);

  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const upstreams: Record<string, Upstream> = {};
    for (const [appId, handler] of Object.entries(options.apps)) {
      const app = await startApp(handler);
      cleanups.push(app.close);
      const sidecar = await startSidecar({
        appId,
        appPort: app.port,
        daprHttpPort: 0,
        resourcesPaths: [resourcesDir],
        registryDir,
        logLevel: 'silent',
        env: {},
      });
      cleanups.push(() => sidecar.close());
      await sidecar.ready;
      upstreams[appId] = app.upstream;
    }
    // The gateway's server listens first (answering 503) so its sidecar knows where to deliver events.
    const baseConfig = loadConfig(gatewayConfigSchema, { PORT: '0', ...options.env });
    let serve: http.RequestListener = (_req, res) => {
      res.writeHead(503).end();
    };
    // Filled once the gateway exists: the server ends its live streams when a shutdown closes it (as main.ts wires it).
    const started: { gateway?: Gateway } = {};
    const server = createGatewayServer((req, res) => serve(req, res), baseConfig.MAX_HEADER_BYTES, {
      beforeClose: () => started.gateway?.streams.close(),
      maxConnectionsPerAddress: baseConfig.MAX_CONNECTIONS_PER_ADDRESS,
      headersTimeoutMs: baseConfig.HEADERS_TIMEOUT_MS,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const gatewaySidecar: RunningSidecar = await startSidecar({
      appId: 'gateway',
      appPort: (server.address() as AddressInfo).port,
      daprHttpPort: 0,
      resourcesPaths: [resourcesDir],
      registryDir,
      logLevel: 'silent',
      env: options.gatewaySidecarEnv ?? {},
    });
    cleanups.push(() => gatewaySidecar.close());
    const tap = await startSidecarTap(gatewaySidecar.httpPort);
    cleanups.push(() => tap.close());

    const config = loadConfig(gatewayConfigSchema, {
      PORT: '0',
      DAPR_HTTP_PORT: String(tap.port),
      LOG_LEVEL: 'info',
      UPSTREAM_APP_IDS: Object.keys(options.apps).join(',') || 'identity',
      ...options.env,
    });
    const logs: string[] = [];
    const runtime = new ServiceRuntime({
      service: 'gateway',
      config,
      logDestination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logs.push(chunk.toString());
          callback();
        },
      }),
      exit: () => undefined,
    });
    cleanups.push(() => runtime.dapr.close());
    const gateway = await createGateway(runtime, config);
    cleanups.push(() => gateway.close());
    started.gateway = gateway;
    serve = gateway.app;
    runtime.shutdown.addServer(server);
    await gatewaySidecar.ready;
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      config,
      gateway,
      upstreams,
      tap,
      runtime,
      resourcesDir,
      logs,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
