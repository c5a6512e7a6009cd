import { clockOffsetMs, countdown, countdownAnnouncement, formatRemaining } from '../src/lib/countdown';

describe('countdown', () => {
  const deadline = '2026-12-06T10:05:00.000Z';
  const at = (iso: string) => Date.parse(iso);

  it('counts down to the server deadline and stops at zero', () => {
    expect(countdown(deadline, at('2026-12-06T10:00:00.000Z'))).toMatchObject({
      label: '5:00',
      expired: false,
      urgent: false,
    });
    expect(countdown(deadline, at('2026-12-06T10:04:00.500Z'))).toMatchObject({ label: '1:00', urgent: true });
    expect(countdown(deadline, at('2026-12-06T10:06:00.000Z'))).toMatchObject({
      remainingMs: 0,
      label: '0:00',
      expired: true,
    });
  });

  it("corrects the device clock with the server's Date header", () => {
    const device = at('2026-12-06T10:00:00.000Z');
    // The device is two minutes behind the server: the player has three minutes, not five.
    const offset = clockOffsetMs('Sun, 06 Dec 2026 10:02:00 GMT', device);
    expect(offset).toBe(120_000);
    expect(countdown(deadline, device, offset).label).toBe('3:00');
    expect(clockOffsetMs(null, device)).toBe(0);
    expect(clockOffsetMs('not a date', device)).toBe(0);
    expect(clockOffsetMs('Sun, 06 Dec 2026 10:00:00 GMT', device + 400)).toBe(0);
  });

  it('formats hours, and rounds partial seconds up so 0:00 means time is up', () => {
    expect(formatRemaining(3_600_000 + 61_000)).toBe('1:01:01');
    expect(formatRemaining(1)).toBe('0:01');
    expect(formatRemaining(-5)).toBe('0:00');
  });

  it('announces whole minutes and the end once, not every tick', () => {
    const now = at('2026-12-06T10:00:00.000Z');
    const first = countdown(deadline, now);
    expect(countdownAnnouncement(undefined, first)).toBe('5 minutes left.');
    const tick = countdown(deadline, now + 250);
    expect(countdownAnnouncement(first, tick)).toBeUndefined();
    const lastMinute = countdown(deadline, at('2026-12-06T10:04:01.000Z'));
    expect(countdownAnnouncement(countdown(deadline, at('2026-12-06T10:03:59.000Z')), lastMinute)).toBe(
      'One minute left.',
    );
    const end = countdown(deadline, at('2026-12-06T10:05:00.000Z'));
    expect(countdownAnnouncement(lastMinute, end)).toBe('Time is up.');
    expect(countdownAnnouncement(end, end)).toBeUndefined();
  });

  it('refuses a deadline that is not a date', () => {
    expect(() => countdown('soon', 0)).toThrow('not a deadline');
  });
});
