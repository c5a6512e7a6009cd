import { ArrivalSchedule, IdlePool } from '../src/scheduler';

describe('open-loop arrival schedule', () => {
  it('makes arrival k due at k / rate, the first at once', () => {
    const s = new ArrivalSchedule(2, 3000);
    expect(s.total).toBe(6);
    expect(s.take(0)).toBe(1);
    expect(s.nextAtMs()).toBe(500);
    expect(s.take(499)).toBe(0);
    expect(s.take(500)).toBe(1);
    expect(s.take(1000)).toBe(1);
    expect(s.nextAtMs()).toBe(1500);
  });

  it('delivers every arrival that fell due while the timer was late (the load does not drop with the client)', () => {
    const s = new ArrivalSchedule(1, 10_000);
    expect(s.take(0)).toBe(1);
    expect(s.take(4200)).toBe(4);
    expect(s.take(4300)).toBe(0);
  });

  it('stops at the end of the duration, whatever the elapsed time', () => {
    const s = new ArrivalSchedule(0.5, 5000);
    expect(s.total).toBe(3); // at 0, 2 and 4 s
    expect(s.take(60_000)).toBe(3);
    expect(s.done).toBe(true);
    expect(s.nextAtMs()).toBeUndefined();
    expect(s.take(120_000)).toBe(0);
  });

  it('schedules a slow rate over a short run', () => {
    const s = new ArrivalSchedule(0.1, 2000);
    expect(s.total).toBe(1);
    expect(s.take(0)).toBe(1);
    expect(s.done).toBe(true);
  });
});

describe('idle pool', () => {
  it('hands out the longest-idle player first and nothing when every player is busy', () => {
    const pool = new IdlePool<string>();
    pool.release('a');
    pool.release('b');
    expect(pool.acquire()).toBe('a');
    pool.release('a');
    expect(pool.acquire()).toBe('b');
    expect(pool.acquire()).toBe('a');
    expect(pool.acquire()).toBeUndefined();
    expect(pool.size).toBe(0);
  });
});
