export * from './backends';
export * from './service-harness';
export * from './fake-kube-api';
export * from './eventually';
export * from './problems';
export * from './sse';
export * from './otlp-receiver';
