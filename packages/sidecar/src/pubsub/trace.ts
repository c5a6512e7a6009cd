import { randomBytes } from 'node:crypto';

/** W3C trace context helpers (https://www.w3.org/TR/trace-context/). */
export interface SpanContext {
  traceId: string;
  spanId: string;
  flags: string;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (!value) return undefined;
  const match = traceparentPattern.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match;
  if (version === 'ff' || !traceId || !spanId || !flags) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${span.flags}`;
}

/** A new span: a child of `parent` when it is a valid traceparent, else the root of a new sampled trace. */
export function childTraceparent(parent: string | undefined): string {
  const parsed = parseTraceparent(parent);
  const spanId = randomBytes(8).toString('hex');
  if (parsed) return formatTraceparent({ traceId: parsed.traceId, spanId, flags: parsed.flags });
  return formatTraceparent({ traceId: randomBytes(16).toString('hex'), spanId, flags: '01' });
}
