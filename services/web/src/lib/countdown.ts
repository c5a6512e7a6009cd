/**
 * The attempt's deadline as the server set it, counted down on this device. The device clock
 * may be wrong, so the offset to the server's clock (from the `Date` header of the answer that
 * started the attempt) is applied; the server decides lateness anyway, the countdown only shows it.
 */
export interface Countdown {
  /** milliseconds left, never below 0 */
  remainingMs: number;
  expired: boolean;
  /** "m:ss" or "h:mm:ss" */
  label: string;
  /** the last minute: shown and announced differently */
  urgent: boolean;
}

/** Server time minus device time, in ms, from an HTTP `Date` header read at `receivedAtMs`. */
export function clockOffsetMs(dateHeader: string | null | undefined, receivedAtMs: number): number {
  if (!dateHeader) return 0;
  const serverMs = Date.parse(dateHeader);
  // The header has whole seconds: offsets under a second are noise, not skew.
  if (Number.isNaN(serverMs) || Math.abs(serverMs - receivedAtMs) < 1_000) return 0;
  return serverMs - receivedAtMs;
}

export function formatRemaining(ms: number): string {
  const totalSeconds = Math.ceil(Math.max(0, ms) / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  const ss = String(seconds).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}

export function countdown(deadlineAt: string, deviceNowMs: number, offsetMs = 0): Countdown {
  const deadlineMs = Date.parse(deadlineAt);
  if (Number.isNaN(deadlineMs)) throw new Error(`not a deadline: ${deadlineAt}`);
  const remainingMs = Math.max(0, deadlineMs - (deviceNowMs + offsetMs));
  return {
    remainingMs,
    expired: remainingMs === 0,
    label: formatRemaining(remainingMs),
    urgent: remainingMs <= 60_000,
  };
}

/** What a screen reader hears: only on whole minutes, the last minute's start and the end, not every second. */
export function countdownAnnouncement(previous: Countdown | undefined, current: Countdown): string | undefined {
  if (current.expired) return previous?.expired ? undefined : 'Time is up.';
  const minutesLeft = Math.ceil(current.remainingMs / 60_000);
  const previousMinutes = previous ? Math.ceil(previous.remainingMs / 60_000) : undefined;
  if (previousMinutes === minutesLeft) return undefined;
  return minutesLeft === 1 ? 'One minute left.' : `${minutesLeft} minutes left.`;
}
