/**
 * The sidecar's channel to its own app: waits (100 ms polls, like daprd) until the app port
 * accepts TCP connections, optionally probes app health, and sends requests over a keep-alive agent.
 */
import type http from 'node:http';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { AppChannel } from './contracts';
import { createKeepAliveAgent, httpRequest, type HttpResponseData } from './http/client';

export interface AppHealthCheckOptions {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  threshold: number;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class LocalAppChannel implements AppChannel {
  readonly baseUrl: string | undefined;
  readonly agent: http.Agent = createKeepAliveAgent();
  private healthy = true;
  private failures = 0;
  private closed = false;
  private readyPromise: Promise<void> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private cancelWait: (() => void) | undefined;

  constructor(
    readonly appId: string,
    readonly host: string,
    readonly port: number | undefined,
    readonly appApiToken: string | undefined,
    private readonly health: AppHealthCheckOptions | undefined,
    private readonly logger: Logger,
  ) {
    this.baseUrl = port === undefined ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.healthy = health === undefined;
  }

  /** false while app health checks report the app as unhealthy */
  isHealthy(): boolean {
    return this.healthy;
  }

  waitUntilReady(): Promise<void> {
    this.readyPromise ??= this.becomeReady();
    return this.readyPromise;
  }

  private async becomeReady(): Promise<void> {
    const port = this.port;
    if (port === undefined) return;
    while (!(await portOpen(this.host, port))) {
      await this.pause(100);
    }
    this.logger.info({ port }, 'app port is open');
    if (this.health) {
      this.scheduleProbe(0);
      while (!this.healthy) await this.pause(100);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('sidecar is shutting down'));
        return;
      }
      this.waitTimer = setTimeout(resolve, ms);
      this.cancelWait = () => reject(new Error('sidecar is shutting down'));
    });
  }

  private scheduleProbe(delayMs: number): void {
    const health = this.health;
    if (!health || this.closed) return;
    this.probeTimer = setTimeout(() => {
      void this.probe(health).finally(() => this.scheduleProbe(health.intervalMs));
    }, delayMs);
  }

  private async probe(health: AppHealthCheckOptions): Promise<void> {
    let ok: boolean;
    try {
      const res = await this.request('GET', health.path, {}, undefined, AbortSignal.timeout(health.timeoutMs));
      ok = res.status >= 200 && res.status < 300;
    } catch {
      ok = false;
    }
    if (ok) {
      this.failures = 0;
      if (!this.healthy) this.logger.info('app is healthy');
      this.healthy = true;
    } else {
      this.failures += 1;
      if (this.healthy && this.failures >= health.threshold) {
        this.healthy = false;
        this.logger.warn({ path: health.path }, 'app is unhealthy');
      }
    }
  }

  /** Sends one request to the app, adding the app API token. */
  request(
    method: string,
    path: string,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<HttpResponseData> {
    if (this.port === undefined)
      return Promise.reject(new Error('app channel is not initialized: the sidecar was started without --app-port'));
    const all = { ...headers };
    if (this.appApiToken !== undefined) all['dapr-api-token'] = this.appApiToken;
    return httpRequest(this.agent, { host: this.host, port: this.port, method, path, headers: all, body, signal });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.waitTimer);
    this.cancelWait?.();
    this.agent.destroy();
  }
}
