/** Test harness: real sidecars (in-process), tiny node:http apps and the official SDK client, all on port 0. */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { startSidecar, type RunningSidecar, type SidecarOptions } from '../src';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `qm-sidecar-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` (name → YAML/JSON text) into a fresh folder and returns it. */
export function resourcesDir(files: Record<string, string>): string {
  const dir = tempDir('res');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestApp {
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type AppHandler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

/** A plain HTTP app recording every request it receives. */
export async function startTestApp(handler: AppHandler): Promise<TestApp> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startTestSidecar(
  options: Partial<SidecarOptions> & { appId: string; registryDir: string },
): Promise<RunningSidecar> {
  return startSidecar({ daprHttpPort: 0, logLevel: 'silent', env: {}, ...options });
}

const noop = (): void => undefined;
/** The SDK logs every failed call at error level; the tests assert on those failures instead. */
const quietSdkLogger = { error: noop, warn: noop, info: noop, verbose: noop, debug: noop };

export function sdkClient(sidecar: RunningSidecar, apiToken?: string): DaprClient {
  return new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(sidecar.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: apiToken,
    logger: { level: LogLevel.Error, service: quietSdkLogger },
  });
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** A raw call to the sidecar API, for status codes and headers the SDK hides. */
export async function raw(sidecar: RunningSidecar, path: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await fetch(`http://127.0.0.1:${sidecar.httpPort}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Parses the JSON error the SDK puts in its thrown Error message. */
export function sdkError(err: unknown): { status: number; body: unknown } {
  const outer = JSON.parse(err instanceof Error ? err.message : String(err)) as { status: number; error_msg: string };
  let body: unknown = outer.error_msg;
  try {
    body = JSON.parse(outer.error_msg);
  } catch {
    // plain text body
  }
  return { status: outer.status, body };
}

/** Resolves when `check` returns true, polling every 20 ms; rejects after `limitMs` (a hang guard, not a timing assertion). */
export async function eventually(check: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * How many AbortSignal.any composites Node keeps recorded on `signal` (its internal
 * kDependantSignals set, which Node 20 never prunes; 0 where Node keeps none).
 */
export function abortDependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === 'kDependantSignals');
  // Node's own Set, from another realm than the test's (so not `instanceof Set` here).
  const recorded = key === undefined ? undefined : (signal as unknown as Record<symbol, { size?: unknown }>)[key];
  return typeof recorded?.size === 'number' ? recorded.size : 0;
}
