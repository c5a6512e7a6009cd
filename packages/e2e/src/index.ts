// The shared test kit's waiting helper (one copy for every test of the repository).
export {
  eventually,
  missing,
  StillMissingError,
  WakeSignal,
  OtlpReceiver,
  type EventuallyOptions,
  type ReceivedSpan,
  type ReceivedDataPoint,
} from '@quizmesh/platform/testing';
export * from './gateway-client';
export * from './load-command';
export * from './metrics-scenario';
export * from './platform';
export * from './sse';
