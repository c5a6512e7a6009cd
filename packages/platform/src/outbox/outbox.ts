/**
 * Transactional outbox, write side, and idempotent consumers. `enqueue` writes the event into
 * the caller's transaction, so it exists exactly when the business change does; the relay
 * (relay.ts) publishes it later. `consumeOnce` records an event id in the consumer's own
 * transaction, so a redelivered event changes nothing the second time.
 *
 * Only raw SQL is used, through the two methods every Prisma client and transaction client
 * has: the outbox works with any service's generated client, whose model types differ.
 */
import { randomUUID } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { z } from 'zod';
import type { EventContract } from '@quizmesh/contracts/events';
import { validTraceparent } from '../trace-context';

/** What the outbox needs of a Prisma client or interactive-transaction client. */
export interface OutboxSql {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

export class OutboxContractError extends Error {
  constructor(topic: string, detail: string) {
    super(`event for ${topic} does not match its contract: ${detail}`);
    this.name = 'OutboxContractError';
  }
}

export interface EnqueueOptions {
  /**
   * The originating request's trace context (its `traceparent` header), used when no
   * OpenTelemetry span is active (tracing off); an active span's context wins.
   */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** W3C traceparent of the active span, or undefined when tracing is off or nothing is traced. */
export function currentTraceContext(): { traceparent: string; tracestate: string | undefined } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return undefined;
  const flags = (ctx.traceFlags & 0xff).toString(16).padStart(2, '0');
  return {
    traceparent: `00-${ctx.traceId}-${ctx.spanId}-${flags}`,
    tracestate: ctx.traceState?.serialize() || undefined,
  };
}

/** An event ready for the OutboxEvent table: checked against its contract, with its id and trace context. */
export interface OutboxEventRow {
  id: string;
  topic: string;
  type: string;
  /** the event's data as JSON text */
  data: string;
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * The row that announces `data` as an event of `contract`. Data that does not match the
 * contract is a programming error: it throws before anything is written.
 */
export function outboxEvent<C extends EventContract>(
  contract: C,
  data: z.input<C['schema']>,
  options: EnqueueOptions = {},
): OutboxEventRow {
  const parsed = contract.schema.safeParse(data);
  if (!parsed.success) {
    throw new OutboxContractError(
      contract.topic,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  const active = currentTraceContext();
  const traceparent = active?.traceparent ?? validTraceparent(options.traceparent);
  const tracestate = active ? active.tracestate : traceparent ? options.tracestate : undefined;
  return {
    id: randomUUID(),
    topic: contract.topic,
    type: contract.type,
    data: JSON.stringify(parsed.data),
    traceparent: traceparent ?? null,
    tracestate: tracestate ?? null,
  };
}

/**
 * The INSERT of `rows` into OutboxEvent with its parameters from `$<first>` on: one statement
 * for any number of events, to run alone (`enqueueAll`) or as a step of a larger statement (a
 * data-modifying CTE that writes the change and its event in one round trip).
 */
export function outboxInsert(rows: readonly OutboxEventRow[], first = 1): { sql: string; values: unknown[] } {
  const p = (i: number) => `$${first + i}`;
  return {
    sql: `INSERT INTO "OutboxEvent" ("id", "topic", "type", "data", "traceparent", "tracestate")
     SELECT * FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::jsonb[], ${p(4)}::text[], ${p(5)}::text[])`,
    values: [
      rows.map((r) => r.id),
      rows.map((r) => r.topic),
      rows.map((r) => r.type),
      rows.map((r) => r.data),
      rows.map((r) => r.traceparent),
      rows.map((r) => r.tracestate),
    ],
  };
}

/** Writes the events in the transaction `tx`, in one statement. */
export async function enqueueAll(tx: OutboxSql, rows: readonly OutboxEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { sql, values } = outboxInsert(rows);
  await tx.$executeRawUnsafe(sql, ...values);
}

/**
 * Writes `data` as an event of `contract` in the transaction `tx`; returns the event id (the
 * CloudEvent id consumers dedupe on). Data that does not match the contract is a programming
 * error: it throws before anything is written, and the caller's transaction rolls back.
 */
export async function enqueue<C extends EventContract>(
  tx: OutboxSql,
  contract: C,
  data: z.input<C['schema']>,
  options: EnqueueOptions = {},
): Promise<string> {
  const row = outboxEvent(contract, data, options);
  await tx.$executeRawUnsafe(
    `INSERT INTO "OutboxEvent" ("id", "topic", "type", "data", "traceparent", "tracestate")
     VALUES ($1::uuid, $2, $3, $4::jsonb, $5, $6)`,
    row.id,
    row.topic,
    row.type,
    row.data,
    row.traceparent,
    row.tracestate,
  );
  return row.id;
}

/**
 * Marks `eventId` as processed by `consumer` inside the consumer's transaction. Returns false
 * when it already was (a redelivery): the caller then skips its effect and acknowledges.
 * Concurrent deliveries of one event serialise on the primary key: the second waits for the
 * first transaction and then sees the row.
 */
export async function consumeOnce(tx: OutboxSql, consumer: string, eventId: string): Promise<boolean> {
  if (eventId === '') throw new Error('consumeOnce needs the event id');
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO "ProcessedEvent" ("consumer", "eventId") VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    consumer,
    eventId,
  );
  return inserted === 1;
}
