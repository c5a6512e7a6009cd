/**
 * `bindings.cron` (input): `@every <go duration>`, 5/6-field cron expressions (croner) and
 * `@hourly`-style nicknames, with an optional `CRON_TZ=<zone>` prefix. Each tick POSTs an
 * empty body with `timeZone` and `readTimeUTC` headers; ticks do not overlap.
 */
import { Cron } from 'croner';
import { parseGoDuration } from '../duration';
import type { InputBinding } from './binding';

export class CronBinding implements InputBinding {
  private readonly everyMs: number | undefined;
  private readonly pattern: string | undefined;
  private readonly timezone: string | undefined;
  private job: Cron | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  /** Validates the schedule up front so a bad one is a startup error. */
  constructor(schedule: string) {
    let text = schedule.trim();
    const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(text);
    if (tz) {
      this.timezone = tz[1];
      text = tz[2] ?? '';
    }
    const every = /^@every\s+(\S+)$/.exec(text);
    if (every?.[1] !== undefined) {
      this.everyMs = parseGoDuration(every[1]);
      if (this.everyMs <= 0) throw new Error(`schedule "${schedule}": @every needs a positive duration`);
    } else {
      this.pattern = text;
      new Cron(text, { paused: true, timezone: this.timezone }).stop();
    }
  }

  start(deliver: (data: Buffer, headers: Record<string, string>) => Promise<void>): void {
    const tick = async (): Promise<void> => {
      if (this.running) return;
      this.running = true;
      try {
        await deliver(Buffer.alloc(0), {
          timeZone: this.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
          readTimeUTC: new Date().toISOString(),
        });
      } finally {
        this.running = false;
      }
    };
    if (this.everyMs !== undefined) {
      this.timer = setInterval(() => void tick(), this.everyMs);
    } else if (this.pattern !== undefined) {
      this.job = new Cron(this.pattern, { timezone: this.timezone, protect: true }, () => tick());
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.job?.stop();
  }
}
