export { startSidecar, DAPR_API_VERSION, type SidecarOptions, type RunningSidecar } from './sidecar';
export { parseSidecarArgs, type ParsedSidecarArgs } from './cli-args';
export { defaultRegistryDir, SidecarRegistry, type RegistryEntry } from './invoke/registry';
export { SidecarStartupError } from './errors';
export type { ApiResult } from './api/types';
export type { AppChannel } from './app-channel/types';
export type { CreatePubSubRuntime, PubSubRuntime, PubSubRuntimeOptions } from './pubsub/types';
export type { PolicyRunner, ResiliencyLookup } from './resiliency/types';
export type { ComponentSpec, SubscriptionRule, SubscriptionSpec } from './resources/types';
