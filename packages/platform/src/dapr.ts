/**
 * The one way services reach Dapr: the official @dapr/dapr SDK over HTTP (its HTTP client alone,
 * dapr-http-client.ts), wrapped so that
 * every failure is an AppError (the SDK returns `{error}` from save/publish/delete instead
 * of throwing) and callers never see SDK quirks. The gateway's proxy is the one exception
 * (see docs/decisions/0004-gateway-proxies-through-dapr-http.md).
 */
import { HttpMethod } from '@dapr/dapr/enum/HttpMethod.enum';
import { LogLevel } from '@dapr/dapr/types/logger/LogLevel';
import type { Logger } from 'pino';
import { createDaprHttpClient, type DaprHttpClient } from './dapr-http-client';
import { AppError } from './errors';

/**
 * One logging path: the SDK's console logger would print failures we already report as
 * DaprCallError. Its errors and warnings go to pino at debug; its verbose/debug lines are
 * dropped because they include request headers (the Dapr API token among them).
 */
function sdkLogService(logger: Logger | undefined) {
  const log = (message: unknown) => logger?.debug(String(message));
  const drop = () => undefined;
  return { error: log, warn: log, info: drop, verbose: drop, debug: drop };
}

export interface DaprOptions {
  host: string;
  httpPort: number;
  apiToken?: string | undefined;
  /** the SDK's own log lines go here at debug level (failures surface as DaprCallError anyway) */
  logger?: Logger;
}

export type StateOperation =
  | { operation: 'upsert'; request: { key: string; value: unknown; etag?: string; metadata?: Record<string, string> } }
  | { operation: 'delete'; request: { key: string; etag?: string } };

export interface InvokeResult<T> {
  status: number;
  body: T;
}

/** A failed call to the sidecar, with Dapr's status and error body when there was one. */
export class DaprCallError extends AppError {
  constructor(
    readonly operation: string,
    readonly daprStatus: number | undefined,
    readonly daprBody: string | undefined,
    cause: unknown,
  ) {
    super(daprStatus !== undefined && daprStatus < 500 && daprStatus !== 404 ? 502 : 503, {
      code: 'dependency-failed',
      detail: `${operation} failed${daprStatus !== undefined ? ` (dapr status ${daprStatus})` : ''}`,
      cause,
    });
  }

  /** The callee app itself answered `status` with a problem (not a sidecar that could not reach it). */
  answeredByCallee(status: number): boolean {
    return this.daprStatus === status && this.daprBody !== undefined && this.daprBody.includes(`"status":${status}`);
  }
}

/** Parses the SDK's thrown `Error(JSON.stringify({error, error_msg, status}))`. */
export function parseSdkError(err: unknown): { status: number | undefined; body: string | undefined } {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : undefined;
  if (message?.startsWith('{')) {
    try {
      const parsed = JSON.parse(message) as { status?: unknown; error_msg?: unknown };
      return {
        status: typeof parsed.status === 'number' ? parsed.status : undefined,
        body: typeof parsed.error_msg === 'string' ? parsed.error_msg : undefined,
      };
    } catch {
      /* not the SDK's format */
    }
  }
  return { status: undefined, body: message };
}

export class Dapr {
  readonly client: DaprHttpClient;

  constructor(readonly options: DaprOptions) {
    this.client = createDaprHttpClient({
      daprHost: options.host,
      daprPort: String(options.httpPort),
      ...(options.apiToken ? { daprApiToken: options.apiToken } : {}),
      isKeepAlive: true,
      logger: { level: LogLevel.Warn, service: sdkLogService(options.logger) },
    });
  }

  /** Readiness: the sidecar answers its health endpoint (through the SDK). */
  async checkSidecar(): Promise<void> {
    const healthy = await this.client.health.isHealthy();
    if (!healthy) throw new Error(`dapr sidecar on port ${this.options.httpPort} is not healthy`);
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof AppError) throw err;
      const { status, body } = parseSdkError(err);
      throw new DaprCallError(operation, status, body, err);
    }
  }

  private static failIfError(operation: string, result: unknown) {
    if (result && typeof result === 'object' && 'error' in result && (result as { error?: unknown }).error) {
      const { error } = result as { error: unknown };
      const { status, body } = parseSdkError(error);
      throw new DaprCallError(operation, status, body, error);
    }
  }

  /** Returns undefined when the key is missing (the SDK returns "" for a 204). */
  async getState<T>(store: string, key: string): Promise<T | undefined> {
    const value = await this.call(`state get ${store}/${key}`, () => this.client.state.get(store, key));
    return value === '' || value === undefined || value === null ? undefined : (value as T);
  }

  async saveState(
    store: string,
    items: Array<{ key: string; value: unknown; etag?: string; metadata?: Record<string, string> }>,
  ): Promise<void> {
    const result = await this.call(`state save ${store}`, () =>
      this.client.state.save(
        store,
        items.map((i) => ({
          key: i.key,
          value: i.value,
          ...(i.etag ? { etag: i.etag } : {}),
          ...(i.metadata ? { metadata: i.metadata } : {}),
        })),
      ),
    );
    Dapr.failIfError(`state save ${store}`, result);
  }

  async deleteState(store: string, key: string): Promise<void> {
    const result = await this.call(`state delete ${store}/${key}`, () => this.client.state.delete(store, key));
    Dapr.failIfError(`state delete ${store}/${key}`, result);
  }

  async stateTransaction(store: string, operations: StateOperation[]): Promise<void> {
    await this.call(`state transaction ${store}`, () =>
      this.client.state.transaction(store, operations as Parameters<DaprHttpClient['state']['transaction']>[1]),
    );
  }

  /** Publishes `data` (JSON) or a full CloudEvent (`contentType: application/cloudevents+json`). */
  async publish(
    pubsub: string,
    topic: string,
    data: object,
    options: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<void> {
    const result = await this.call(`publish ${pubsub}/${topic}`, () =>
      this.client.pubsub.publish(pubsub, topic, data, {
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      }),
    );
    Dapr.failIfError(`publish ${pubsub}/${topic}`, result);
  }

  /** Service invocation; a non-2xx answer of the callee throws DaprCallError with its status and body. */
  async invoke<T>(
    appId: string,
    method: string,
    verb: HttpMethod = HttpMethod.GET,
    body?: object,
    headers?: Record<string, string>,
  ): Promise<T> {
    return (await this.call(`invoke ${appId}/${method}`, () =>
      this.client.invoker.invoke(appId, method, verb, body, headers ? { headers } : {}),
    )) as T;
  }

  async getSecret(store: string, key: string): Promise<Record<string, string>> {
    return (await this.call(`secret ${store}/${key}`, () => this.client.secret.get(store, key))) as Record<
      string,
      string
    >;
  }

  /** Output binding, e.g. `invokeBinding('mail', 'create', body, {emailTo, subject})`. */
  async invokeBinding(name: string, operation: string, data: unknown, metadata: Record<string, string> = {}) {
    return this.call(`binding ${name}/${operation}`, () =>
      this.client.binding.send(name, operation, data as object, metadata),
    );
  }

  async close(): Promise<void> {
    await this.client.stop();
  }
}

export { HttpMethod };
