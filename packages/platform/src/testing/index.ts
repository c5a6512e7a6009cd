export * from './backends';
export * from './service-harness';
