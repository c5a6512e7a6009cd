/**
 * The one way the load generator sends HTTP: Node's fetch, locked to one origin. It takes
 * paths only (an absolute URL or `//host` is refused before anything is sent), never follows
 * a redirect (a 3xx is an error, whatever its Location), and behaves as a polite client on
 * 429: it waits Retry-After and asks again, for as long as the caller's deadline allows.
 */

export class OffOriginError extends Error {}

export interface GatewayResponse {
  status: number;
  headers: Headers;
  /** parsed JSON when the answer is JSON, else the text */
  body: unknown;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** stop waiting for Retry-After past this time (epoch ms); the 429 is then returned */
  retryUntil?: number;
  signal?: AbortSignal;
  /** told of each 429, so its owner counts it as a rate limit and not as an error */
  onRateLimited?: (retryAfterMs: number) => void;
}

/** Retry-After in ms: delta-seconds or an HTTP-date (RFC 9110 10.2.3); 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class GatewayHttp {
  readonly origin: string;

  constructor(
    base: URL,
    private readonly random: () => number = Math.random,
  ) {
    this.origin = base.origin;
  }

  /** The URL of `path` on the gateway; throws OffOriginError for anything that would leave it. */
  resolve(path: string): URL {
    if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\'))
      throw new OffOriginError(`refused ${JSON.stringify(path)}: only paths on ${this.origin} are requested`);
    const url = new URL(path, this.origin);
    if (url.origin !== this.origin) throw new OffOriginError(`refused ${url.origin}: only ${this.origin} is requested`);
    return url;
  }

  /** One exchange; the raw Response (for streams). 3xx is refused without following it. */
  async open(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal },
  ) {
    const url = this.resolve(path);
    const res = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'manual',
      ...(init.signal ? { signal: init.signal } : {}),
    });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new OffOriginError(
        `refused to follow ${res.status} from ${method} ${path} to ${res.headers.get('location') ?? '(no Location)'}`,
      );
    }
    return res;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<GatewayResponse> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    for (;;) {
      const res = await this.open(method, path, {
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      let parsed: unknown = text;
      if (/json/.test(type) && text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      if (res.status !== 429) return { status: res.status, headers: res.headers, body: parsed };
      const waitMs = retryAfterMs(res.headers.get('retry-after'));
      options.onRateLimited?.(waitMs);
      // A little jitter so players limited together do not come back in one burst.
      const jittered = waitMs + Math.floor(this.random() * 250);
      if (options.retryUntil === undefined || Date.now() + jittered > options.retryUntil || options.signal?.aborted)
        return { status: 429, headers: res.headers, body: parsed };
      await sleep(jittered, options.signal);
      if (options.signal?.aborted) return { status: 429, headers: res.headers, body: parsed };
    }
  }
}
