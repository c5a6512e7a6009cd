/**
 * The sidecar's channel to its own app: waits (100 ms polls, like daprd) until the app port
 * accepts TCP connections, optionally probes app health, and sends requests over a keep-alive agent.
 */
import type http from 'node:http';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { AppChannel } from './types';
import { createKeepAliveAgent, httpRequest, type HttpResponseData } from './http-client';

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
  private readonly listeners: Array<(healthy: boolean) => void> = [];
  readonly healthChecksEnabled: boolean;

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
    this.healthChecksEnabled = health !== undefined;
  }

  onHealthChange(listener: (healthy: boolean) => void): void {
    this.listeners.push(listener);
  }

  whenHealthy(signal: AbortSignal): Promise<void> {
    if (this.healthy) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        const i = this.listeners.indexOf(listener);
        if (i >= 0) this.listeners.splice(i, 1);
        signal.removeEventListener('abort', onAbort);
      };
      const listener = (healthy: boolean): void => {
        if (!healthy) return;
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(new Error('sidecar is shutting down'));
      };
      if (signal.aborted) return onAbort();
      this.listeners.push(listener);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  reportUnreachable(reason: string): void {
    if (!this.health || !this.healthy) return;
    // daprd waits for `threshold` failed probes; a refused connection is already certain, and
    // waiting would burn the retry budget of every delivery meanwhile (decision 0750).
    this.failures = this.health.threshold;
    this.setHealthy(false, reason);
  }

  private setHealthy(healthy: boolean, reason: string): void {
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    if (healthy) this.logger.info('app is healthy');
    else this.logger.warn({ path: this.health?.path, reason }, 'app is unhealthy');
    for (const listener of [...this.listeners]) listener(healthy);
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
    // A fixed rate, as daprd's ticker (pkg/apphealth): a probe that times out does not push the
    // next one back, so an app that answers again is seen within one interval.
    this.probeTimer = setTimeout(() => {
      const started = Date.now();
      void this.probe(health).finally(() => this.scheduleProbe(Math.max(0, started + health.intervalMs - Date.now())));
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
      this.setHealthy(true, 'probe succeeded');
    } else {
      this.failures += 1;
      if (this.failures >= health.threshold) this.setHealthy(false, 'probes failed');
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

/** The health members of an AppChannel without health checks (always healthy), for channels built by hand. */
export const withoutHealthChecks: Pick<
  AppChannel,
  'healthChecksEnabled' | 'isHealthy' | 'onHealthChange' | 'whenHealthy' | 'reportUnreachable'
> = {
  healthChecksEnabled: false,
  isHealthy: () => true,
  onHealthChange: () => undefined,
  whenHealthy: () => Promise.resolve(),
  reportUnreachable: () => undefined,
};
