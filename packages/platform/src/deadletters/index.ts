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
