export {
  enqueue,
  enqueueAll,
  outboxEvent,
  outboxInsert,
  consumeOnce,
  currentTraceContext,
  OutboxContractError,
} from './outbox';
export type { OutboxSql, EnqueueOptions, OutboxEventRow } from './outbox';
export { startOutboxRelay, startServiceOutboxRelay, CLOUDEVENT_CONTENT_TYPE } from './relay';
export type { OutboxRelay, OutboxRelayOptions, OutboxRelayTuning } from './relay';
