/** W3C trace context: each sidecar hop is a child span (same trace id, new span id). */
import { randomFillSync } from 'node:crypto';

// One syscall-backed fill per 512 ids instead of one per span.
const pool = Buffer.alloc(8 * 512);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function childTraceparent(incoming: string | undefined, sampled: boolean): string {
  const m = incoming === undefined ? null : TRACEPARENT.exec(incoming.trim().toLowerCase());
  const spanId = randomHex(8);
  if (m && m[2] !== '0'.repeat(32) && m[3] !== '0'.repeat(16)) return `00-${m[2] ?? ''}-${spanId}-${m[4] ?? '00'}`;
  return `00-${randomHex(16)}-${spanId}-${sampled ? '01' : '00'}`;
}
