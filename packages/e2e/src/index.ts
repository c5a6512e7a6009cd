export * from './eventually';
export * from './gateway-client';
export * from './otlp-receiver';
export * from './platform';
export * from './sse';
