/** The metadata API: `GET /v1.0/metadata` (what this sidecar runs) and `PUT /v1.0/metadata/{key}` (extended metadata). */
import type { AppHealthCheckOptions } from '../app-channel/channel';
import type { ComponentSet } from '../components';
import type { PubSubRuntime } from '../pubsub/types';

export interface MetadataApiOptions {
  appId: string;
  runtimeVersion: string;
  components: ComponentSet;
  pubsub: PubSubRuntime;
  appPort: number | undefined;
  appChannelAddress: string;
  appHealthCheck: AppHealthCheckOptions | undefined;
}

export class MetadataApi {
  private readonly extended: Record<string, string> = {};

  constructor(private readonly options: MetadataApiOptions) {}

  setExtended(key: string, value: string): void {
    this.extended[key] = value;
  }

  describe(): object {
    const { appId, runtimeVersion, components, pubsub, appPort, appChannelAddress, appHealthCheck } = this.options;
    const described = pubsub.describe();
    const body: Record<string, unknown> = {
      id: appId,
      runtimeVersion,
      extended: { ...this.extended, daprRuntimeVersion: runtimeVersion, localSidecar: 'quizmesh' },
      components: components.all.map(({ spec, capabilities }) => {
        const c: Record<string, unknown> = { name: spec.name, type: spec.type, version: spec.version };
        if (capabilities.length > 0) c.capabilities = capabilities;
        return c;
      }),
      subscriptions: described.subscriptions.map((s) => {
        const sub: Record<string, unknown> = {
          pubsubname: s.pubsubname,
          topic: s.topic,
          rules: s.rules.map((r) => (r.match === '' ? { path: r.path } : { match: r.match, path: r.path })),
          deadLetterTopic: s.deadLetterTopic ?? '',
          type: s.origin === 'declarative' ? 'DECLARATIVE' : 'PROGRAMMATIC',
        };
        if (Object.keys(s.metadata).length > 0) sub.metadata = s.metadata;
        return sub;
      }),
    };
    // Pub/sub components are listed by the pub/sub runtime only if it did not appear above.
    const known = new Set(components.all.map((c) => c.spec.name));
    for (const c of described.components) {
      if (!known.has(c.name)) (body.components as object[]).push({ name: c.name, type: c.type, version: c.version });
    }
    if (appPort !== undefined) {
      const props: Record<string, unknown> = { port: appPort, protocol: 'http', channelAddress: appChannelAddress };
      if (appHealthCheck) {
        props.health = {
          healthCheckPath: appHealthCheck.path,
          healthProbeInterval: `${appHealthCheck.intervalMs / 1000}s`,
          healthProbeTimeout: `${appHealthCheck.timeoutMs}ms`,
          healthThreshold: appHealthCheck.threshold,
        };
      }
      body.appConnectionProperties = props;
    }
    return body;
  }
}
