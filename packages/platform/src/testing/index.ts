export * from './backends';
export * from './service-harness';
export * from './fake-kube-api';
