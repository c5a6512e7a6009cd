// The shared test kit's waiting helper (one copy for every test of the repository).
export { eventually, missing, StillMissingError, WakeSignal, type EventuallyOptions } from '@quizmesh/platform/testing';
export * from './gateway-client';
export * from './otlp-receiver';
export * from './platform';
export * from './sse';
