/**
 * Service invocation. The caller's sidecar resolves the target in the local registry and
 * calls the target's sidecar on an internal endpoint; that sidecar applies its access
 * control, adds the dapr-caller-* headers and forwards to its app, as daprd does between
 * sidecars. Status, headers and body come back unchanged, 4xx/5xx included.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { ApiResult } from '../api/types';
import type { ResiliencyLookup } from '../resiliency/types';
import type { LocalAppChannel } from '../app-channel/channel';
import { errorMessage } from '../errors';
import { isInvocationAllowed } from './acl';
import type { InstancePicker, RegistryEntry, SidecarRegistry } from './registry';
import { childTraceparent } from './trace';
import { eitherSignal, PermanentOutcome, StatusFailure } from '../resiliency/policy';
import type { AccessControlSpec } from '../resources/types';
import {
  HOP_BY_HOP,
  httpRequest,
  requestUnread,
  stillListening,
  type HttpResponseData,
} from '../app-channel/http-client';
import { daprError } from '../api/respond';

export const INTERNAL_INVOKE_PREFIX = '/_quizmesh/v1/invoke/';
/** The sidecars' own sidecar-to-sidecar headers; anything else (the app's headers) is passed on. */
const INTERNAL_HEADER_PREFIX = 'x-quizmesh-sidecar-';
const CALLER_HEADER = `${INTERNAL_HEADER_PREFIX}caller-app-id`;
const TOKEN_HEADER = `${INTERNAL_HEADER_PREFIX}internal-token`;
const HOST_HEADER = `${INTERNAL_HEADER_PREFIX}forwarded-host`;
/** Marks a callee-sidecar refusal (ACL) that the caller must not retry. */
const FINAL_HEADER = `${INTERNAL_HEADER_PREFIX}final`;
/** Marks a call the callee's sidecar did not hand to its app (app down or unhealthy): another instance may take it. */
const NOT_DELIVERED_HEADER = `${INTERNAL_HEADER_PREFIX}not-delivered`;

export interface InvokeDeps {
  appId: string;
  namespace: string | undefined;
  registry: SidecarRegistry;
  instances: InstancePicker;
  self: () => RegistryEntry | undefined;
  app: LocalAppChannel;
  agent: http.Agent;
  resiliency: ResiliencyLookup;
  accessControl: AccessControlSpec | undefined;
  sampled: boolean;
  logger: Logger;
}

export interface IncomingCall {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** e.g. `orders/1` (no leading slash) */
  targetMethod: string;
  /** raw query string without `?`, '' for none */
  query: string;
  /** aborted when the caller went away: the call is cancelled and not retried (daprd's request context) */
  callerGone?: AbortSignal;
}

function copyHeaders(headers: http.IncomingHttpHeaders, drop: (name: string) => boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop(name)) continue;
    out[name] = value;
  }
  return out;
}

const isPrivate = (name: string): boolean =>
  name === 'dapr-app-id' || name === 'dapr-api-token' || name.startsWith(INTERNAL_HEADER_PREFIX);

function passThrough(res: HttpResponseData): ApiResult {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === FINAL_HEADER || name === NOT_DELIVERED_HEADER) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.status, headers, body: res.body };
}

function invokeError(status: number, targetAppId: string, reason: string): ApiResult {
  return daprError(status, 'ERR_DIRECT_INVOKE', `failed to invoke, id: ${targetAppId}, err: ${reason}`);
}

function pathAndQuery(targetMethod: string, query: string): string {
  return `/${targetMethod}${query === '' ? '' : `?${query}`}`;
}

/** Caller side: `/v1.0/invoke/{id}/method/{m}` or a `dapr-app-id` header. */
export async function invokeApp(deps: InvokeDeps, rawTargetId: string, call: IncomingCall): Promise<ApiResult> {
  const targetAppId = decodeURIComponent(rawTargetId);
  if (/^https?:\/\//i.test(targetAppId)) return invokeUrl(deps, targetAppId, call);
  // `id.namespace`: there is one namespace locally.
  const appId = targetAppId.split('.')[0] ?? targetAppId;
  const headers = copyHeaders(call.headers, isPrivate);
  headers.traceparent = childTraceparent(firstValue(call.headers.traceparent), deps.sampled);
  if (appId === deps.appId) {
    return serveCall(deps, deps.appId, { ...call, headers: { ...headers, host: call.headers.host } });
  }
  const path = INTERNAL_INVOKE_PREFIX + call.targetMethod + (call.query === '' ? '' : `?${call.query}`);
  const policy = deps.resiliency.app(appId, `${appId}:${call.targetMethod}`);
  try {
    const res = await policy.run(async (attemptSignal) => {
      if (call.callerGone?.aborted) throw new PermanentOutcome(call.callerGone.reason);
      const signal = call.callerGone ? eitherSignal(attemptSignal, call.callerGone) : attemptSignal;
      const send = (target: RegistryEntry): Promise<HttpResponseData> =>
        httpRequest(deps.agent, {
          host: '127.0.0.1',
          port: target.httpPort,
          method: call.method,
          path,
          headers: {
            ...headers,
            [CALLER_HEADER]: deps.appId,
            [TOKEN_HEADER]: target.internalToken,
            [HOST_HEADER]: call.headers.host ?? '',
          },
          body: call.body,
          signal,
        });
      const notRunning = (): Error =>
        new Error(`app id ${appId} is not running (no live entry in the local sidecar registry ${deps.registry.dir})`);
      // Round robin over the app's live instances; a call that did not reach an instance's app
      // (its sidecar is gone, or its app is down or unhealthy) goes on to the next one, as
      // daprd's built-in retries do on an unavailable target. Nothing else is retried here: the
      // app may have acted on it.
      const tried = new Set<string>();
      let refused: { target: RegistryEntry; failure: unknown } | undefined;
      let out: HttpResponseData | undefined;
      while (out === undefined) {
        const target = deps.instances.pick(appId, tried, refused !== undefined);
        if (!target) {
          if (!refused) throw notRunning();
          // No instance's app took it (unhealthy, or gone before reading it): daprd's callee
          // answers such a call with a gRPC error, not an app status, and the target's retry
          // policy retries it whatever `matching` says. Safe: no app has seen it.
          if (isResponse(refused.failure)) throw new NotDelivered(refused.failure);
          // The only instance went away between resolving and sending.
          if (deps.registry.resolveAll(appId, true).length === 0) throw notRunning();
          throw refused.failure;
        }
        tried.add(target.internalToken);
        let answer: HttpResponseData;
        try {
          answer = await send(target);
        } catch (err) {
          // Only a call the instance's sidecar never read may go on to the next instance: one it
          // read may be with its app already. A reset while that sidecar still listens was its own.
          if (!requestUnread(err) || (await resetByLiveListener(err, target.httpPort))) throw err;
          deps.instances.markUnreachable(target);
          refused = { target, failure: err };
          continue;
        }
        if (answer.headers[NOT_DELIVERED_HEADER] !== undefined) {
          deps.instances.markUnreachable(target);
          refused = { target, failure: answer };
          continue;
        }
        out = answer;
      }
      // A refusal by the callee's sidecar (access control) is a gRPC error in daprd, not an app
      // status: the breaker counts it and a retry policy retries it whatever `matching` says.
      if (out.headers[FINAL_HEADER] !== undefined) throw new CalleeRefusal(out);
      if (out.status < 200 || out.status > 399) throw new StatusFailure(out.status, out);
      return out;
    });
    return passThrough(res);
  } catch (err) {
    if (err instanceof CalleeRefusal || err instanceof NotDelivered) return passThrough(err.response);
    if (err instanceof StatusFailure && isResponse(err.payload)) return passThrough(err.payload);
    return invokeError(500, appId, errorMessage(err));
  }
}

class CalleeRefusal extends Error {
  constructor(readonly response: HttpResponseData) {
    super(`refused by the callee's sidecar with status ${response.status}`);
    this.name = 'CalleeRefusal';
  }
}

/** Every instance's sidecar answered that its app did not get the call: an error the retry policy retries. */
class NotDelivered extends Error {
  constructor(readonly response: HttpResponseData) {
    super(`no instance's app took the call: ${response.body.toString('utf8').slice(0, 300)}`);
    this.name = 'NotDelivered';
  }
}

function isResponse(value: unknown): value is HttpResponseData {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function invokeUrl(deps: InvokeDeps, baseUrl: string, call: IncomingCall): Promise<ApiResult> {
  try {
    const url = new URL(pathAndQuery(call.targetMethod, call.query), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    if (url.protocol !== 'http:') return invokeError(500, baseUrl, 'only http:// endpoints are supported locally');
    const headers = copyHeaders(call.headers, isPrivate);
    headers.traceparent = childTraceparent(firstValue(call.headers.traceparent), deps.sampled);
    const res = await deps.resiliency.app(baseUrl, `${baseUrl}/${call.targetMethod}`).run(async (signal) => {
      const out = await httpRequest(deps.agent, {
        host: url.hostname,
        port: Number(url.port || 80),
        method: call.method,
        path: url.pathname + url.search,
        headers,
        body: call.body,
        signal,
      });
      // Same rule as for app ids (daprd's directmessaging.go): any status outside 200-399 is a failure.
      if (out.status < 200 || out.status > 399) throw new StatusFailure(out.status, out);
      return out;
    });
    return passThrough(res);
  } catch (err) {
    if (err instanceof StatusFailure && isResponse(err.payload)) return passThrough(err.payload);
    return invokeError(500, baseUrl, errorMessage(err));
  }
}

/** Callee side: the internal endpoint another local sidecar calls. */
export async function handleInternalInvoke(deps: InvokeDeps, call: IncomingCall): Promise<ApiResult> {
  const self = deps.self();
  const token = firstValue(call.headers[TOKEN_HEADER]);
  const caller = firstValue(call.headers[CALLER_HEADER]);
  if (!self || token !== self.internalToken || caller === undefined) {
    return {
      ...invokeError(403, deps.appId, 'the caller is not a sidecar registered in the local registry'),
      headers: { [FINAL_HEADER]: '1' },
    };
  }
  const headers = copyHeaders(call.headers, (name) => name.startsWith(INTERNAL_HEADER_PREFIX));
  headers.host = firstValue(call.headers[HOST_HEADER]) ?? '';
  return serveCall(deps, caller, { ...call, headers });
}

/** Access control, then the call to this sidecar's app with the headers daprd adds. */
async function serveCall(
  deps: InvokeDeps,
  callerAppId: string,
  call: { method: string; headers: http.OutgoingHttpHeaders; body: Buffer; targetMethod: string; query: string },
): Promise<ApiResult> {
  if (!isInvocationAllowed(deps.accessControl, callerAppId, `/${call.targetMethod}`, call.method)) {
    const denied = invokeError(
      403,
      deps.appId,
      `access control policy has denied access to id: spiffe://${deps.accessControl?.trustDomain ?? 'public'}/ns/${deps.namespace ?? 'default'}/${callerAppId} operation: ${call.targetMethod} verb: ${call.method}`,
    );
    return { ...denied, headers: { [FINAL_HEADER]: '1' } };
  }
  if (deps.app.port === undefined)
    return invokeError(500, deps.appId, 'app channel is not initialized: the sidecar was started without --app-port');
  if (!deps.app.isHealthy()) return notDelivered(invokeError(500, deps.appId, 'app is not in a healthy state'));
  const originalHost = typeof call.headers.host === 'string' ? call.headers.host : '';
  const headers: http.OutgoingHttpHeaders = { ...call.headers };
  delete headers.host;
  headers.traceparent = childTraceparent(
    typeof headers.traceparent === 'string' ? headers.traceparent : undefined,
    deps.sampled,
  );
  headers['dapr-caller-app-id'] = callerAppId;
  headers['dapr-callee-app-id'] = deps.appId;
  if (deps.namespace !== undefined) headers['dapr-caller-namespace'] = deps.namespace;
  headers['x-forwarded-for'] = '127.0.0.1';
  if (originalHost !== '') headers['x-forwarded-host'] = originalHost;
  headers.forwarded = `for=127.0.0.1;by=127.0.0.1${originalHost === '' ? '' : `;host=${originalHost}`}`;
  try {
    const res = await deps.app.request(call.method, pathAndQuery(call.targetMethod, call.query), headers, call.body);
    return passThrough(res);
  } catch (err) {
    const failed = invokeError(500, deps.appId, `error invoking the app: ${errorMessage(err)}`);
    // The app never read the call, and is gone (refused, or reset by the kernel as it died):
    // another instance may take it. An app that reset the connection itself keeps it.
    if (!requestUnread(err) || (await resetByLiveListener(err, deps.app.port, deps.app.host))) return failed;
    deps.app.reportUnreachable(`invocation: ${errorMessage(err)}`);
    return notDelivered(failed);
  }
}

/** A reset (not a refusal) while a process still listens on `port`. */
async function resetByLiveListener(err: unknown, port: number, host = '127.0.0.1'): Promise<boolean> {
  return (err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' && (await stillListening(host, port));
}

function notDelivered(result: ApiResult): ApiResult {
  return { ...result, headers: { ...result.headers, [NOT_DELIVERED_HEADER]: '1' } };
}
