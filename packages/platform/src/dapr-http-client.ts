/**
 * The official @dapr/dapr SDK's HTTP client, without the rest of the SDK (decision 1010).
 *
 * `new DaprClient({ communicationProtocol: HTTP })` builds exactly these objects: an `HTTPClient`
 * and one `HTTPClient*` class per building block. But importing `DaprClient` (or the package root)
 * also loads the gRPC client, the workflow runtime with its protobufs, a Temporal polyfill and the
 * SDK's server: 574 modules, about 39 MB RSS and 0.4 s of CPU in every app, none of them used over
 * HTTP. The building-block classes import nothing of that; `HTTPClient.js` does, through a single
 * `require("../../..")` whose only use is `DaprClient.awaitSidecarStarted` on the first call. So
 * that one require is answered with a stand-in while `HTTPClient.js` loads: the stand-in asks
 * the sidecar once (the same `/metadata` probe the SDK's first step makes) and only when the
 * sidecar is not up yet hands over to the real `DaprClient.awaitSidecarStarted` (loading the whole
 * SDK then, for its polling and time-out).
 *
 * Under a module loader other than Node's (jest), the require is not intercepted and the root
 * loads as usual: the same client, only heavier.
 */
import Module, { createRequire } from 'node:module';
import type { DaprClient } from '@dapr/dapr';
import type HTTPClient from '@dapr/dapr/implementation/Client/HTTPClient/HTTPClient';
import HTTPClientBinding from '@dapr/dapr/implementation/Client/HTTPClient/binding';
import HTTPClientHealth from '@dapr/dapr/implementation/Client/HTTPClient/health';
import HTTPClientInvoker from '@dapr/dapr/implementation/Client/HTTPClient/invoker';
import HTTPClientPubSub from '@dapr/dapr/implementation/Client/HTTPClient/pubsub';
import HTTPClientSecret from '@dapr/dapr/implementation/Client/HTTPClient/secret';
import HTTPClientState from '@dapr/dapr/implementation/Client/HTTPClient/state';
import CommunicationProtocolEnum from '@dapr/dapr/enum/CommunicationProtocol.enum';
import { getClientOptions } from '@dapr/dapr/utils/Client.util';

export type DaprHttpClientOptions = ConstructorParameters<typeof HTTPClient>[0];

/** The building blocks the platform uses, as `DaprClient` exposes them over HTTP. */
export interface DaprHttpClient extends Pick<
  DaprClient,
  'binding' | 'health' | 'invoker' | 'pubsub' | 'secret' | 'state'
> {
  stop(): Promise<void>;
}

type AwaitSidecarStarted = (isStarted: () => Promise<boolean>, logger: unknown) => Promise<void>;
type ModuleLoad = (request: string, parent: { filename?: string | null } | undefined, isMain: boolean) => unknown;

const sdkRequire = createRequire(__filename);
const HTTP_CLIENT_FILE = sdkRequire.resolve('@dapr/dapr/implementation/Client/HTTPClient/HTTPClient');
/** what HTTPClient.js requires the package root as (checked by test/dapr-http-client.test.ts) */
const ROOT_REQUEST = '../../..';

const sdkRootStandIn = {
  DaprClient: {
    async awaitSidecarStarted(isStarted: () => Promise<boolean>, logger: unknown): Promise<void> {
      if (await isStarted()) return;
      const { DaprClient: RealDaprClient } = sdkRequire('@dapr/dapr') as {
        DaprClient: { awaitSidecarStarted: AwaitSidecarStarted };
      };
      await RealDaprClient.awaitSidecarStarted(isStarted, logger);
    },
  },
};

function loadHttpClientClass(): typeof HTTPClient {
  const internals = Module as unknown as { _load: ModuleLoad };
  const load = internals._load;
  internals._load = function loadWithoutSdkRoot(this: unknown, request, parent, isMain) {
    if (request === ROOT_REQUEST && parent?.filename === HTTP_CLIENT_FILE) return sdkRootStandIn;
    return load.call(this, request, parent, isMain);
  };
  try {
    return (sdkRequire(HTTP_CLIENT_FILE) as { default: typeof HTTPClient }).default;
  } finally {
    internals._load = load;
  }
}

let httpClientClass: typeof HTTPClient | undefined;

export function createDaprHttpClient(options: DaprHttpClientOptions): DaprHttpClient {
  httpClientClass ??= loadHttpClientClass();
  // as DaprClient's constructor: the SDK's defaults (DAPR_API_TOKEN from the environment among them)
  const client = new httpClientClass(getClientOptions(options, CommunicationProtocolEnum.HTTP, undefined));
  return {
    binding: new HTTPClientBinding(client),
    health: new HTTPClientHealth(client),
    invoker: new HTTPClientInvoker(client),
    pubsub: new HTTPClientPubSub(client),
    secret: new HTTPClientSecret(client),
    state: new HTTPClientState(client),
    stop: () => client.stop(),
  };
}
