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
  HISTORY_LIMIT,
  REPLAY_CLAIM_TTL_MS,
  type StatusFilter,
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
export { REPLAY_JOB_STALE_MS } from './jobs';
