/**
 * The fuzzer: requests generated from the gateway's OpenAPI document (every operation, in
 * turn), plus raw-socket cases for framing, request smuggling, case variants of routes and
 * header abuse. Every answer is checked: no 5xx, and problem+json on every error. After the
 * run: every operation reached, and the caller checks its own invariants (processes, limits).
 */
import net from 'node:net';
import fc from 'fast-check';
import { fuzzArbitrary, operationsOf, parameterArbitrary, type Operation, type Resolver } from './schema';

export interface FuzzTokens {
  player: string;
  author: string;
  admin: string;
}

export interface FuzzOptions {
  baseUrl: string;
  /** total requests, raw-socket cases included */
  requests: number;
  seed?: number;
  tokens: FuzzTokens;
  /**
   * fresh tokens for the same accounts (fuzzed logouts and password changes revoke them);
   * called every `refreshEvery` requests
   */
  refreshTokens?: () => Promise<FuzzTokens>;
  refreshEvery?: number;
  concurrency?: number;
  /** per-request deadline; an answer that never comes is a violation */
  timeoutMs?: number;
  onProgress?: (done: number) => void;
}

export interface Violation {
  case: string;
  request: string;
  status: number;
  problem: string;
}

export interface FuzzSummary {
  requests: number;
  seed: number;
  durationMs: number;
  requestsPerSecond: number;
  operations: { total: number; reached: number; unreached: string[] };
  byStatus: Record<string, number>;
  byOperation: Record<string, Record<string, number>>;
  rawCases: Record<string, Record<string, number>>;
  violations: Violation[];
  violationCount: number;
}

const PROBLEM = /^application\/problem\+json/i;

interface HttpCall {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** encodeURIComponent, except that a lone surrogate becomes invalid percent-encoded UTF-8 (%ED%A0%80): hostile too. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((ch) => {
        const code = ch.charCodeAt(0);
        if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff)
          return `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
        return encodeURIComponent(ch);
      })
      .join('');
  }
}

function describe(call: HttpCall): string {
  const body = call.body === undefined ? '' : ` body=${call.body.slice(0, 200)}`;
  return `${call.method} ${call.path.slice(0, 300)}${body}`;
}

/** Builds one request for `operation` from a fast-check draw. */
function requestFor(operation: Operation, resolve: Resolver): fc.Arbitrary<HttpCall> {
  const pathParams = operation.parameters.filter((p) => p.in === 'path');
  const queryParams = operation.parameters.filter((p) => p.in === 'query');
  // Role placeholders, replaced by the current token when the request is sent.
  const auth = fc.constantFrom<string | undefined>(
    undefined,
    'Bearer {{player}}',
    'Bearer {{author}}',
    'Bearer {{admin}}',
    'Bearer {{admin}}',
    'Bearer not.a.token',
    'Basic YWRtaW46YWRtaW4=',
  );
  const extraQuery = fc.option(fc.constantFrom('unknown=1', 'limit=1&limit=2', '__proto__[admin]=1', 'a=%FF'), {
    nil: undefined,
    freq: 6,
  });
  return fc
    .record({
      path: fc.tuple(...pathParams.map((p) => parameterArbitrary(p, resolve))),
      query: fc.tuple(...queryParams.map((p) => parameterArbitrary(p, resolve))),
      extraQuery,
      authorization: auth,
      body:
        operation.body || operation.method !== 'GET' ? fuzzArbitrary(operation.body, resolve) : fc.constant(undefined),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'text/plain',
        'application/merge-patch+json',
      ),
    })
    .map(({ path, query, extraQuery, authorization, body, contentType }) => {
      let url = operation.path;
      pathParams.forEach((p, i) => {
        url = url.replace(`{${p.name}}`, encode(String(path[i] ?? '')));
      });
      const search = queryParams
        .flatMap((p, i) => (query[i] === undefined ? [] : [`${encode(p.name)}=${encode(query[i])}`]))
        .concat(extraQuery ? [extraQuery] : []);
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization;
      let text: string | undefined;
      if (body !== undefined && operation.method !== 'GET' && operation.method !== 'DELETE') {
        text = JSON.stringify(body) ?? 'null';
        headers['content-type'] = contentType;
      }
      return {
        label: operation.id,
        method: operation.method,
        path: search.length > 0 ? `${url}?${search.join('&')}` : url,
        headers,
        ...(text !== undefined ? { body: text } : {}),
      };
    });
}

async function send(baseUrl: string, call: HttpCall, tokens: FuzzTokens, timeoutMs: number) {
  const headers = { ...call.headers };
  if (headers.authorization)
    headers.authorization = headers.authorization.replace(
      /\{\{(player|author|admin)\}\}/,
      (_m, role: keyof FuzzTokens) => tokens[role],
    );
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(`${baseUrl}${call.path}`, {
      method: call.method,
      headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: controller.signal,
      redirect: 'manual',
    });
    const type = res.headers.get('content-type') ?? '';
    // A live stream never ends: its headers are the answer.
    if (type.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, type, text: '' };
    }
    return { status: res.status, type, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** One raw-socket exchange: what was written, every status line that came back. */
async function rawExchange(port: number, payload: string | Buffer, idleMs: number) {
  return new Promise<{ statuses: number[]; types: string[]; data: string }>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const finish = () => {
      socket.destroy();
      const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      const types = [...data.matchAll(/\r\ncontent-type: ([^\r\n]*)/gi)].map((m) => m[1] ?? '');
      resolve({ statuses, types, data });
    };
    // Inactivity, not a total: a kept-alive connection stays open after its answer, and a
    // smuggled second answer would come right after the first.
    socket.setTimeout(idleMs, finish);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    socket.on('end', finish);
    socket.on('error', finish);
    socket.write(payload);
  });
}

/** Framing, smuggling, case-variant and header cases, written byte for byte. */
export function rawCases(tokens: FuzzTokens): Array<{ name: string; payload: string | Buffer; maxResponses: number }> {
  const auth = `Authorization: Bearer ${tokens.admin}\r\n`;
  const inner = `PUT /v1.0/metadata/fuzz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`;
  const innerShutdown = `POST /v1.0/shutdown HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`;
  const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;
  const cases: Array<{ name: string; payload: string | Buffer; maxResponses: number }> = [
    {
      name: 'smuggle: chunked GET body holding a sidecar request',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(inner)}`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: chunked GET body holding a shutdown',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${chunk(innerShutdown)}`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: Content-Length and Transfer-Encoding',
      payload: `POST /api/v1/auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(inner)}`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: two Content-Lengths',
      payload: `POST /api/v1/auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: Transfer-Encoding xchunked',
      payload: `POST /api/v1/auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: xchunked\r\n\r\n${chunk('{}')}`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: obs-fold header',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nX-A: a\r\n b\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'smuggle: GET with Content-Length body',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
      maxResponses: 1,
    },
    {
      name: 'framing: oversized chunked body on GET',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${chunk('x'.repeat(300_000))}`,
      maxResponses: 1,
    },
    {
      name: 'framing: declared body over the limit',
      payload: `POST /api/v1/auth/register HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n{"a":`,
      maxResponses: 1,
    },
    {
      name: 'framing: bad chunk size',
      payload: `POST /api/v1/auth/login HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      maxResponses: 1,
    },
    { name: 'framing: HTTP/1.0 without Host', payload: `GET /api/v1/quizzes HTTP/1.0\r\n\r\n`, maxResponses: 1 },
    { name: 'framing: missing Host', payload: `GET /api/v1/quizzes HTTP/1.1\r\n\r\n`, maxResponses: 1 },
    {
      name: 'framing: absolute-form target',
      payload: `GET http://quiz/api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n\r\n`,
      maxResponses: 1,
    },
    { name: 'framing: asterisk-form target', payload: `OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n`, maxResponses: 1 },
    {
      name: 'framing: CONNECT',
      payload: `CONNECT identity:3001 HTTP/1.1\r\nHost: identity:3001\r\n\r\n`,
      maxResponses: 1,
    },
    { name: 'framing: unknown method', payload: `BREW /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n\r\n`, maxResponses: 1 },
    { name: 'framing: garbage request line', payload: `\x00\x01\x02 / HTTP/1.1\r\n\r\n`, maxResponses: 1 },
    { name: 'framing: HTTP/2 preface', payload: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, maxResponses: 1 },
    {
      name: 'headers: too large',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nX-Pad: ${'p'.repeat(40_000)}\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'headers: many',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n${'X-H: 1\r\n'.repeat(3_000)}\r\n`,
      maxResponses: 1,
    },
    {
      name: 'headers: NUL in a value',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\nX-A: a\x00b\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'headers: forged caller and user',
      payload: `GET /api/v1/users/me HTTP/1.1\r\nHost: gw\r\ndapr-caller-app-id: gateway\r\nx-quizmesh-user-id: 00000000-0000-4000-8000-000000000000\r\nx-quizmesh-user-roles: admin\r\nConnection: close\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'headers: forged dapr-api-token',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\ndapr-api-token: guess\r\nConnection: close\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'stream: HEAD',
      payload: `HEAD /api/v1/stream HTTP/1.1\r\nHost: gw\r\n${auth}Connection: close\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'stream: POST',
      payload: `POST /api/v1/stream HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      maxResponses: 1,
    },
    {
      name: 'events: delivery from outside',
      payload: `POST /events/tokens.revoked HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      maxResponses: 1,
    },
    {
      name: 'pipelined: two requests',
      payload: `GET /api/v1/quizzes HTTP/1.1\r\nHost: gw\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`,
      maxResponses: 2,
    },
  ];
  const variants = [
    '/API/V1/QUIZZES',
    '/api/v1/Quizzes',
    '/api/v1/quizzes/',
    '/api/v1//quizzes',
    '/api/v1/./quizzes',
    '/api/v1/%71uizzes',
    '/api/v1/auth/Login',
    '/api/v1/auth/Register',
    '/api/v1/auth/login/',
    '/api/v1/users/ME',
    '/api/v1/admin/Users',
    '/api/v1/quizzes/..%2fadmin',
    '/api/v1/quizzes;jsessionid=1',
    '/%2e%2e/api/v1/quizzes',
  ];
  for (const path of variants) {
    cases.push({
      name: `case variant: ${path}`,
      payload: `POST ${path} HTTP/1.1\r\nHost: gw\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      maxResponses: 1,
    });
    cases.push({
      name: `case variant: GET ${path}`,
      payload: `GET ${path} HTTP/1.1\r\nHost: gw\r\n${auth}Connection: close\r\n\r\n`,
      maxResponses: 1,
    });
  }
  return cases;
}

export async function fuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const seed = options.seed ?? Date.now() % 2_147_483_647;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const documentRes = await fetch(`${options.baseUrl}/api/v1/openapi.json`);
  if (!documentRes.ok) throw new Error(`could not load the OpenAPI document: ${documentRes.status}`);
  const { operations, resolve } = operationsOf((await documentRes.json()) as Parameters<typeof operationsOf>[0]);
  const port = Number(new URL(options.baseUrl).port);
  const raw = rawCases(options.tokens);
  const generated = Math.max(operations.length, options.requests - raw.length);

  const byStatus: Record<string, number> = {};
  const byOperation: Record<string, Record<string, number>> = Object.fromEntries(operations.map((o) => [o.id, {}]));
  const rawSummary: Record<string, Record<string, number>> = {};
  const violations: Violation[] = [];
  let violationCount = 0;
  const violate = (v: Violation) => {
    violationCount += 1;
    if (violations.length < 100) violations.push(v);
  };
  const count = (bucket: Record<string, number>, status: number) => {
    bucket[String(status)] = (bucket[String(status)] ?? 0) + 1;
  };

  // One arbitrary per operation; draws are spread round-robin so every operation is reached.
  const arbitraries = operations.map((op) => requestFor(op, resolve));
  const perOperation = Math.ceil(generated / operations.length);
  const samples = arbitraries.map((arb, i) => fc.sample(arb, { numRuns: perOperation, seed: seed + i }));
  const calls: HttpCall[] = [];
  for (let round = 0; round < perOperation && calls.length < generated; round += 1) {
    for (const sample of samples) {
      const call = sample[round];
      if (call && calls.length < generated) calls.push(call);
    }
  }

  const started = Date.now();
  let done = 0;
  // The raw cases first, one at a time: several of them try to break the connection handling.
  for (const c of raw) {
    const answer = await rawExchange(port, c.payload, 1_500);
    const bucket = (rawSummary[c.name] ??= {});
    if (answer.statuses.length === 0) count(bucket, 0);
    answer.statuses.forEach((status, i) => {
      count(bucket, status);
      count(byStatus, status);
      const type = answer.types[i] ?? '';
      if (status >= 500)
        violate({ case: c.name, request: c.name, status, problem: `server error: ${answer.data.slice(0, 300)}` });
      else if (status >= 400 && !PROBLEM.test(type))
        violate({
          case: c.name,
          request: c.name,
          status,
          problem: `error is not problem+json (${type || 'no content type'})`,
        });
    });
    if (answer.statuses.length > c.maxResponses)
      violate({
        case: c.name,
        request: c.name,
        status: 0,
        problem: `${answer.statuses.length} answers on one connection: a request was smuggled`,
      });
    done += 1;
  }

  let tokens = options.tokens;
  let refreshing: Promise<void> | undefined;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const call = calls[index];
      if (!call) return;
      const bucket = byOperation[call.label] ?? (byOperation[call.label] = {});
      try {
        const { status, type, text } = await send(options.baseUrl, call, tokens, timeoutMs);
        count(bucket, status);
        count(byStatus, status);
        if (status >= 500)
          violate({
            case: call.label,
            request: describe(call),
            status,
            problem: `server error: ${text.slice(0, 300)}`,
          });
        else if (status >= 400 && !PROBLEM.test(type))
          violate({
            case: call.label,
            request: describe(call),
            status,
            problem: `error is not problem+json (${type || 'no content type'})`,
          });
      } catch (err) {
        count(bucket, 0);
        violate({ case: call.label, request: describe(call), status: 0, problem: `no answer: ${String(err)}` });
      }
      done += 1;
      if (done % 500 === 0) options.onProgress?.(done);
      const refresh = options.refreshTokens;
      if (refresh && done % (options.refreshEvery ?? 200) === 0 && !refreshing) {
        refreshing = refresh()
          .then((fresh) => {
            tokens = fresh;
          })
          .finally(() => {
            refreshing = undefined;
          });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  await refreshing;
  const durationMs = Date.now() - started;
  const unreached = operations.filter((o) => Object.keys(byOperation[o.id] ?? {}).length === 0).map((o) => o.id);
  const total = raw.length + calls.length;
  return {
    requests: total,
    seed,
    durationMs,
    requestsPerSecond: Math.round((total / durationMs) * 1000),
    operations: { total: operations.length, reached: operations.length - unreached.length, unreached },
    byStatus,
    byOperation,
    rawCases: rawSummary,
    violations,
    violationCount,
  };
}
