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
export { REPLAY_JOB_STALE_MS } from './jobs';
