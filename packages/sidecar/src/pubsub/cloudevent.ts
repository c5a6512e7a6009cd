/**
 * CloudEvents 1.0 envelopes exactly as daprd builds them (contrib `pubsub/envelope.go`,
 * daprd `onPublish`): what is published, and the synthetic envelope for rawPayload
 * subscriptions.
 */
import { randomUUID } from 'node:crypto';

export type CloudEvent = Record<string, unknown>;

export const DEFAULT_EVENT_TYPE = 'com.dapr.event.sent';
export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json';

/** Media type without parameters, lower-cased. */
export function baseMediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** contrib `contenttype.IsJSONContentType` */
export function isJsonContentType(contentType: string): boolean {
  const base = baseMediaType(contentType);
  return base === 'application/json' || base.endsWith('+json');
}

/** contrib `contenttype.IsBinaryContentType` */
export function isBinaryContentType(contentType: string): boolean {
  return baseMediaType(contentType) === 'application/octet-stream';
}

export function isCloudEventContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && baseMediaType(contentType) === CLOUDEVENT_CONTENT_TYPE;
}

/** RFC 3339 in UTC with second precision, as Go's `time.RFC3339` renders a UTC time. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface EnvelopeInput {
  appId: string;
  pubsubName: string;
  topic: string;
  body: Buffer;
  contentType: string | undefined;
  metadata: Record<string, string>;
  /** traceparent/tracestate of the publish span */
  traceparent: string;
  tracestate: string | undefined;
  /** ttl in seconds when the component has no native message TTL (in-memory) */
  expirationTtlSeconds: number | undefined;
  now: Date;
}

export class CloudEventBodyError extends Error {
  override readonly name = 'CloudEventBodyError';
}

function parseJsonOrString(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The event a publish request turns into (not used for `rawPayload=true`). */
export function buildPublishedEvent(input: EnvelopeInput): CloudEvent {
  const event = isCloudEventContentType(input.contentType) ? fromCloudEventBody(input) : newEnvelope(input);
  if (input.expirationTtlSeconds !== undefined) {
    event.expiration = rfc3339(new Date(input.now.getTime() + input.expirationTtlSeconds * 1000));
  }
  return event;
}

function fromCloudEventBody(input: EnvelopeInput): CloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString('utf8'));
  } catch (err) {
    throw new CloudEventBodyError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CloudEventBodyError('an application/cloudevents+json body must be a JSON object');
  }
  const event = parsed as CloudEvent;
  event.topic = input.topic;
  event.pubsubname = input.pubsubName;
  const addIfMissing = (field: string, value: unknown): void => {
    if (event[field] === undefined || event[field] === null) event[field] = value;
  };
  addIfMissing('time', rfc3339(input.now));
  if (event.traceid === undefined || event.traceid === null) {
    event.traceid = input.traceparent;
    event.traceparent = input.traceparent;
  }
  addIfMissing('tracestate', input.tracestate ?? '');
  addIfMissing('source', 'Dapr');
  addIfMissing('type', DEFAULT_EVENT_TYPE);
  addIfMissing('specversion', '1.0');
  return event;
}

function newEnvelope(input: EnvelopeInput): CloudEvent {
  const override = (field: string): string | undefined => {
    const value = input.metadata[`cloudevent.${field}`];
    return value === undefined || value === '' ? undefined : value;
  };
  const dataContentType = input.contentType && input.contentType !== '' ? input.contentType : 'text/plain';
  // A cloudevent.traceparent override wins over cloudevent.traceid.
  const traceparent = override('traceparent') ?? override('traceid') ?? input.traceparent;
  const event: CloudEvent = {
    id: override('id') ?? randomUUID(),
    specversion: '1.0',
    datacontenttype: dataContentType,
    source: override('source') ?? input.appId,
    type: override('type') ?? DEFAULT_EVENT_TYPE,
    topic: input.topic,
    pubsubname: input.pubsubName,
    traceid: traceparent,
    traceparent,
    tracestate: override('tracestate') ?? input.tracestate ?? '',
    time: rfc3339(input.now),
  };
  if (isJsonContentType(dataContentType)) event.data = parseJsonOrString(input.body);
  else if (isBinaryContentType(dataContentType)) event.data_base64 = input.body.toString('base64');
  else event.data = input.body.toString('utf8');
  const subject = override('subject');
  if (subject !== undefined) event.subject = subject;
  return event;
}

/** contrib `FromRawPayload`: what a rawPayload subscriber's app receives. */
export function rawPayloadEnvelope(
  data: Buffer,
  topic: string,
  pubsubName: string,
  messageMetadata: Record<string, string>,
): CloudEvent {
  const event: CloudEvent = {
    id: randomUUID(),
    specversion: '1.0',
    datacontenttype: 'application/octet-stream',
    source: 'Dapr',
    type: DEFAULT_EVENT_TYPE,
    topic,
    pubsubname: pubsubName,
    data_base64: data.toString('base64'),
  };
  if (messageMetadata.traceid !== undefined) event.traceid = messageMetadata.traceid;
  if (messageMetadata.traceparent !== undefined) {
    event.traceparent = messageMetadata.traceparent;
    event.traceid = messageMetadata.traceparent;
  }
  if (messageMetadata.tracestate !== undefined) event.tracestate = messageMetadata.tracestate;
  return event;
}

/** contrib `HasExpired` */
export function hasExpired(event: CloudEvent, now: Date): boolean {
  const expiration = event.expiration;
  if (typeof expiration !== 'string' || expiration === '') return false;
  const at = Date.parse(expiration);
  return !Number.isNaN(at) && at < now.getTime();
}
