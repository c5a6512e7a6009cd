/**
 * `pubsub.rabbitmq` component metadata with contrib's code defaults
 * (`pubsub/rabbitmq/metadata.go`). Invalid values fail the component instead of
 * silently falling back to a default.
 */
import { findMetadata, parseGoBool, parseNonNegativeInt } from '../metadata-values';

export type ExchangeKind = 'fanout' | 'direct' | 'topic' | 'headers';

export interface RabbitMqMetadata {
  /** amqp(s) URL including credentials and vhost */
  url: string;
  consumerId: string;
  durable: boolean;
  deletedWhenUnused: boolean;
  autoAck: boolean;
  requeueInFailure: boolean;
  /** 0 = no limit */
  prefetchCount: number;
  /** 0/1 transient, 2 persistent */
  deliveryMode: 0 | 1 | 2;
  publisherConfirm: boolean;
  reconnectWaitMs: number;
  heartbeatSeconds: number;
  concurrencyMode: 'parallel' | 'single';
  exchangeKind: ExchangeKind;
  enableDeadLetter: boolean;
  maxLen: number | undefined;
  maxLenBytes: number | undefined;
  /** default per-message TTL */
  ttlSeconds: number | undefined;
  clientName: string | undefined;
  publishMessagePropertiesToMetadata: boolean;
}

function bool(metadata: Record<string, string>, key: string, fallback: boolean): boolean {
  const raw = findMetadata(metadata, key);
  if (raw === undefined || raw === '') return fallback;
  const parsed = parseGoBool(raw);
  if (parsed === undefined) throw new Error(`${key} must be a boolean, got "${raw}"`);
  return parsed;
}

/** Dapr durations: plain seconds ("3") or Go duration text ("3s", "500ms", "1m"). */
function durationMs(metadata: Record<string, string>, key: string, fallbackMs: number): number {
  const raw = findMetadata(metadata, key)?.trim();
  if (raw === undefined || raw === '') return fallbackMs;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw);
  if (!match) throw new Error(`${key} must be a number of seconds or a duration like "3s", got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function connectionUrl(metadata: Record<string, string>): string {
  const connectionString = findMetadata(metadata, 'connectionString') || findMetadata(metadata, 'host');
  if (connectionString) {
    if (!/^amqps?:\/\//.test(connectionString)) {
      throw new Error('connectionString must start with amqp:// or amqps://');
    }
    return connectionString;
  }
  const protocol = findMetadata(metadata, 'protocol') || 'amqp';
  if (protocol !== 'amqp' && protocol !== 'amqps') throw new Error(`protocol must be amqp or amqps, got "${protocol}"`);
  const hostname = findMetadata(metadata, 'hostname') || 'localhost';
  const username = findMetadata(metadata, 'username') ?? '';
  const password = findMetadata(metadata, 'password') ?? '';
  const credentials = username === '' ? '' : `${encodeURIComponent(username)}:${encodeURIComponent(password)}@`;
  return `${protocol}://${credentials}${hostname}`;
}

function oneOf<T extends string>(metadata: Record<string, string>, key: string, allowed: readonly T[], fallback: T): T {
  const raw = findMetadata(metadata, key);
  if (raw === undefined || raw === '') return fallback;
  const value = allowed.find((candidate) => candidate === raw);
  if (value === undefined) throw new Error(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return value;
}

export function parseRabbitMqMetadata(metadata: Record<string, string>, appId: string): RabbitMqMetadata {
  const deliveryMode = parseNonNegativeInt('deliveryMode', findMetadata(metadata, 'deliveryMode')) ?? 0;
  if (deliveryMode > 2) throw new Error(`deliveryMode must be 0, 1 or 2, got ${deliveryMode}`);
  // contrib's metadata.yaml calls it `concurrency`; the code reads `concurrencyMode`. Accept both.
  const concurrencyKey = findMetadata(metadata, 'concurrencyMode') !== undefined ? 'concurrencyMode' : 'concurrency';
  return {
    url: connectionUrl(metadata),
    consumerId: findMetadata(metadata, 'consumerID') || appId,
    durable: bool(metadata, 'durable', true),
    deletedWhenUnused: bool(metadata, 'deletedWhenUnused', true),
    autoAck: bool(metadata, 'autoAck', false),
    requeueInFailure: bool(metadata, 'requeueInFailure', false),
    prefetchCount: parseNonNegativeInt('prefetchCount', findMetadata(metadata, 'prefetchCount')) ?? 0,
    deliveryMode: deliveryMode as 0 | 1 | 2,
    publisherConfirm: bool(metadata, 'publisherConfirm', false),
    reconnectWaitMs: durationMs(metadata, 'reconnectWaitSeconds', 3000),
    heartbeatSeconds: Math.round(durationMs(metadata, 'heartBeat', 10_000) / 1000),
    concurrencyMode: oneOf(metadata, concurrencyKey, ['parallel', 'single'] as const, 'parallel'),
    exchangeKind: oneOf(metadata, 'exchangeKind', ['fanout', 'direct', 'topic', 'headers'] as const, 'fanout'),
    enableDeadLetter: bool(metadata, 'enableDeadLetter', false),
    maxLen: parseNonNegativeInt('maxLen', findMetadata(metadata, 'maxLen')),
    maxLenBytes: parseNonNegativeInt('maxLenBytes', findMetadata(metadata, 'maxLenBytes')),
    ttlSeconds: parseNonNegativeInt('ttlInSeconds', findMetadata(metadata, 'ttlInSeconds')),
    clientName: findMetadata(metadata, 'clientName') || undefined,
    publishMessagePropertiesToMetadata: bool(metadata, 'publishMessagePropertiesToMetadata', false),
  };
}
