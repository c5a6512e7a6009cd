/** The pub/sub building block as the rest of the sidecar sees it (implemented in index.ts). */
import type { Logger } from 'pino';
import type { AppChannel } from '../app-channel/types';
import type { ApiResult } from '../api/types';
import type { ResiliencyLookup } from '../resiliency/types';
import type { ComponentSpec, SubscriptionSpec } from '../resources/types';

/** What the HTTP API needs from the pub/sub building block. */
export interface PubSubRuntime {
  /** POST|PUT /v1.0/publish/{pubsub}/{topic...} (query already split into `metadata.*` entries). */
  publish(req: {
    pubsubName: string;
    topic: string;
    body: Buffer;
    contentType: string | undefined;
    metadata: Record<string, string>;
    traceparent: string | undefined;
    tracestate: string | undefined;
  }): Promise<ApiResult>;
  /** POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic...} */
  publishBulk(req: {
    pubsubName: string;
    topic: string;
    body: Buffer;
    metadata: Record<string, string>;
  }): Promise<ApiResult>;
  /** Fetch `/dapr/subscribe` once the app is ready, merge declarative subscriptions, start consuming. */
  start(): Promise<void>;
  /** Stop consuming, let in-flight deliveries finish, close broker connections. */
  close(): Promise<void>;
  /** For `GET /v1.0/metadata` */
  describe(): { components: Array<{ name: string; type: string; version: string }>; subscriptions: SubscriptionSpec[] };
}

export interface PubSubRuntimeOptions {
  appId: string;
  /** the local registry directory (pubsub.local-network registers its peers under it) */
  registryDir?: string;
  components: ComponentSpec[];
  declarativeSubscriptions: SubscriptionSpec[];
  app: AppChannel;
  resiliency: ResiliencyLookup;
  logger: Logger;
}

/** Implemented in src/pubsub/index.ts */
export type CreatePubSubRuntime = (options: PubSubRuntimeOptions) => Promise<PubSubRuntime>;
