/**
 * W3C trace context as the services pass it along: the one `traceparent` pattern, and the
 * request's trace headers in the shape `enqueue` takes, so an event published later (through
 * the outbox) joins the trace of the request that caused it.
 */
import type { Request } from 'express';

/** version-traceid-parentid-flags, lower-case hex (W3C Trace Context §3.2). */
export const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** `value` trimmed and lower-cased when it is a traceparent, else undefined. */
export function validTraceparent(value: string | undefined): string | undefined {
  const lower = value?.trim().toLowerCase();
  return lower && TRACEPARENT.test(lower) ? lower : undefined;
}

/** The trace headers a request arrived with (validated where they are used, e.g. by `enqueue`). */
export function requestTraceContext(req: Request): { traceparent: string | undefined; tracestate: string | undefined } {
  return { traceparent: req.header('traceparent'), tracestate: req.header('tracestate') };
}
