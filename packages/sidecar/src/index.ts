export { startSidecar, DAPR_API_VERSION, type SidecarOptions, type RunningSidecar } from './sidecar';
export { parseSidecarArgs, type ParsedSidecarArgs } from './cli-args';
export { defaultRegistryDir, SidecarRegistry, type RegistryEntry } from './invoke/registry';
export { SidecarStartupError } from './errors';
export type * from './contracts';
