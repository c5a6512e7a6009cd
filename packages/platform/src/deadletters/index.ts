export * from './api';
export {
  mountDeadLetters,
  unwrapDeadLetter,
  type DeadLetters,
  type DeadLettersOptions,
  type DeadLetterEvent,
  type DeadLetterRuntime,
} from './mount';
export {
  DeadLetterStore,
  DeadLetterStoreFullError,
  deadLetterId,
  type DeadLetterPage,
  type ListOptions,
} from './store';
export {
  OptimisticState,
  ContentionError,
  type ConditionalWrite,
  type MutationPlan,
  type Versioned,
  type OptimisticStateOptions,
} from './state';
