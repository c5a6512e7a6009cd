/**
 * The sidecar's HTTP API as daprd serves it: maps each path and method to the building block
 * that answers it (state/, pubsub/, invoke/, secrets/, bindings/, metadata/), plus health and
 * shutdown; APIs this sidecar does not implement answer 501, and any other path carrying an app
 * id (`dapr-app-id`) is a service invocation.
 */
import type http from 'node:http';
import { invokeOutputBinding } from '../bindings/api';
import type { ComponentSet } from '../components';
import { notImplemented } from '../errors';
import {
  handleInternalInvoke,
  INTERNAL_INVOKE_PREFIX,
  invokeApp,
  type IncomingCall,
  type InvokeDeps,
} from '../invoke/api';
import type { MetadataApi } from '../metadata/api';
import type { PubSubRuntime } from '../pubsub/types';
import type { ResiliencyLookup } from '../resiliency/types';
import { getBulkSecrets, getSecret } from '../secrets/api';
import { bulkGetState, deleteState, getState, saveState, transactState } from '../state/api';
import { appIdFromHeaders, decode, metadataFromQuery } from './request';
import { daprError } from './respond';
import type { ApiResult } from './types';

const NOT_IMPLEMENTED: Array<[RegExp, string]> = [
  [/^\/v1\.0\/actors(\/|$)/, 'the actors API'],
  [/^\/v1\.0-(alpha1|beta1)\/workflows?(\/|$)/, 'the workflow API'],
  [/^\/v1\.0(-alpha1)?\/configuration(\/|$)/, 'the configuration API'],
  [/^\/v1\.0-alpha1\/(lock|unlock)(\/|$)/, 'the distributed lock API'],
  [/^\/v1\.0-alpha1\/crypto(\/|$)/, 'the cryptography API'],
  [/^\/v1\.0-alpha1\/jobs(\/|$)/, 'the jobs API'],
  [/^\/v1\.0-alpha\d\/conversation(\/|$)/, 'the conversation API'],
  [/^\/v1\.0-(alpha1|beta1)\/state\/[^/]+\/query$/, 'the state query API'],
  [/^\/v1\.0-alpha1\/subscribe(\/|$)/, 'streaming subscriptions'],
  [/^\/v1\.0\/reminders(\/|$)/, 'reminders'],
];

const KNOWN_APIS = ['healthz', 'metadata', 'shutdown', 'state', 'publish', 'invoke', 'secrets', 'bindings'];

export interface RouterDeps {
  appId: string;
  components: ComponentSet;
  resiliency: ResiliencyLookup;
  pubsub: PubSubRuntime;
  invoke: InvokeDeps;
  metadata: MetadataApi;
  /** true once the app is ready and pub/sub and input bindings have started (healthz 204) */
  initialised: () => boolean;
  /** `POST /v1.0/shutdown`: called after the answer is sent */
  shutdown: () => void;
}

/** `callerGone` is aborted when the caller closed its connection before the answer was sent. */
export type Route = (
  req: http.IncomingMessage,
  path: string,
  rawQuery: string,
  body: Buffer,
  callerGone: AbortSignal,
) => Promise<ApiResult>;

export function createRouter(deps: RouterDeps): Route {
  const { appId, pubsub, invoke } = deps;
  const blocks = { components: deps.components, resiliency: deps.resiliency };
  return async (req, path, rawQuery, body, callerGone) => {
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(rawQuery);
    const seg = path.split('/').slice(1);
    const [version, api, a, b] = seg;
    const post = method === 'POST' || method === 'PUT';
    const call = (targetMethod: string): IncomingCall => ({
      method,
      headers: req.headers,
      body,
      targetMethod,
      query: rawQuery,
      callerGone,
    });

    if (path.startsWith(INTERNAL_INVOKE_PREFIX))
      return handleInternalInvoke(invoke, call(path.slice(INTERNAL_INVOKE_PREFIX.length)));
    if (version === 'v1.0') {
      switch (api) {
        case 'healthz':
          if (method !== 'GET') break;
          if (a === 'outbound' && seg.length === 3) return { status: 204 };
          if (seg.length !== 2) break;
          if (query.has('appid') && query.get('appid') !== appId)
            return daprError(500, 'ERR_HEALTH_APPID_NOT_MATCH', 'dapr app-id does not match');
          return deps.initialised() ? { status: 204 } : daprError(500, 'ERR_HEALTH_NOT_READY', 'dapr is not ready');
        case 'metadata':
          if (seg.length === 2 && method === 'GET') return { status: 200, body: deps.metadata.describe() };
          if (seg.length === 3 && a !== undefined && method === 'PUT') {
            deps.metadata.setExtended(decode(a), body.toString('utf8'));
            return { status: 204 };
          }
          break;
        case 'shutdown':
          if (seg.length === 2 && (method === 'POST' || method === 'PUT')) {
            setImmediate(deps.shutdown);
            return { status: 204 };
          }
          break;
        case 'state':
          if (a === undefined) break;
          if (seg.length === 3 && post) return saveState(blocks, decode(a), body, metadataFromQuery(query));
          if (seg.length === 4 && b !== undefined) {
            if (b === 'bulk' && post) return bulkGetState(blocks, decode(a), body);
            if (b === 'transaction' && post) return transactState(blocks, decode(a), body, metadataFromQuery(query));
            if (method === 'GET') return getState(blocks, decode(a), decode(b));
            if (method === 'DELETE') {
              const ifMatch = req.headers['if-match'];
              return deleteState(
                blocks,
                decode(a),
                decode(b),
                typeof ifMatch === 'string' ? ifMatch : undefined,
                query,
              );
            }
          }
          break;
        case 'publish':
          if (a === undefined || !post) break;
          if (seg.length < 4 || seg.slice(3).join('/') === '')
            return daprError(404, 'ERR_TOPIC_NAME_EMPTY', `topic is empty in pubsub ${decode(a)}`);
          return pubsub.publish({
            pubsubName: decode(a),
            topic: decode(seg.slice(3).join('/')),
            body,
            contentType: req.headers['content-type'],
            metadata: metadataFromQuery(query),
            traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
            tracestate: typeof req.headers.tracestate === 'string' ? req.headers.tracestate : undefined,
          });
        case 'invoke':
          if (a !== undefined && b === 'method') return invokeApp(invoke, a, call(seg.slice(4).join('/')));
          break;
        case 'secrets':
          if (a === undefined || b === undefined || seg.length !== 4 || method !== 'GET') break;
          return b === 'bulk' ? getBulkSecrets(blocks, decode(a)) : getSecret(blocks, decode(a), decode(b));
        case 'bindings':
          if (a !== undefined && seg.length === 3 && post) return invokeOutputBinding(blocks, decode(a), body);
          break;
        default:
      }
    }
    if (version === 'v1.0-alpha1' && api === 'publish' && a === 'bulk' && post && b !== undefined) {
      return pubsub.publishBulk({
        pubsubName: decode(b),
        topic: decode(seg.slice(4).join('/')),
        body,
        metadata: metadataFromQuery(query),
      });
    }
    for (const [pattern, what] of NOT_IMPLEMENTED) if (pattern.test(path)) return notImplemented(what);
    const headerAppId = appIdFromHeaders(req.headers);
    if (headerAppId !== undefined) return invokeApp(invoke, headerAppId, call(path.slice(1)));
    if (version !== undefined && /^v1\.0/.test(version) && api !== undefined && KNOWN_APIS.includes(api)) {
      return { status: 405, headers: { 'content-type': 'text/plain' }, body: 'Method Not Allowed' };
    }
    return daprError(
      404,
      'ERR_DIRECT_INVOKE',
      'failed getting app id either from the URL path or the header dapr-app-id',
    );
  };
}
