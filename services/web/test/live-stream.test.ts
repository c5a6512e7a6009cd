import { LiveStream, type EventSourceLike, type Timers } from '../src/lib/live-stream';

class FakeSource implements EventSourceLike {
  readyState = 0;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Array<(event: MessageEvent<string>) => void>>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data = '{}') {
    for (const l of this.listeners.get(type) ?? []) l({ data } as MessageEvent<string>);
  }
  fail() {
    this.onerror?.({} as Event);
  }
}

class FakeTimers implements Timers {
  pending: Array<{ fn: () => void; ms: number; id: number }> = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number) {
    const id = this.next++;
    this.pending.push({ fn, ms, id });
    return id;
  }
  clearTimeout(handle: unknown) {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }
  runNext() {
    const timer = this.pending.shift();
    timer?.fn();
    return timer;
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(tokens: Array<string | undefined> = ['t1', 't2', 't3', 't4', 't5', 't6']) {
  const sources: FakeSource[] = [];
  const timers = new FakeTimers();
  const queue = [...tokens];
  const stream = new LiveStream({
    path: '/api/v1/stream',
    accessToken: async () => queue.shift(),
    open: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    timers,
    retryMs: 1_000,
    maxDelayMs: 8_000,
    random: () => 0.5, // no jitter
  });
  const events: Array<{ type: string; data: unknown }> = [];
  stream.subscribe((e) => events.push(e));
  return { stream, sources, timers, events };
}

describe('live stream', () => {
  it('connects with the access token in the URL and passes events on, parsed', async () => {
    const { stream, sources, events } = setup();
    stream.start();
    await flush();
    expect(sources[0]?.url).toBe('/api/v1/stream?access_token=t1');
    sources[0]?.emit('ready');
    sources[0]?.emit('leaderboard', '{"board":"quiz","quizId":"q"}');
    sources[0]?.emit('leaderboard', 'not json');
    expect(stream.status).toBe('live');
    expect(events).toEqual([
      { type: 'ready', data: null },
      { type: 'leaderboard', data: { board: 'quiz', quizId: 'q' } },
    ]);
  });

  it('reconnects after an error with a fresh token and growing delays, and resets them once ready', async () => {
    const { stream, sources, timers, events } = setup();
    stream.start();
    await flush();
    sources[0]?.fail();
    expect(sources[0]?.closed).toBe(true);
    expect(stream.status).toBe('reconnecting');
    expect(timers.pending.map((t) => t.ms)).toEqual([1_000]);
    timers.runNext();
    await flush();
    expect(sources[1]?.url).toBe('/api/v1/stream?access_token=t2');
    sources[1]?.fail();
    expect(timers.pending.map((t) => t.ms)).toEqual([2_000]);
    timers.runNext();
    await flush();
    sources[2]?.fail();
    timers.runNext();
    await flush();
    sources[3]?.fail();
    expect(timers.pending.map((t) => t.ms)).toEqual([8_000]); // capped
    timers.runNext();
    await flush();
    // Each reconnection's `ready` asks the pages to re-fetch what they missed.
    sources[4]?.emit('ready');
    expect(events.filter((e) => e.type === 'ready')).toHaveLength(1);
    sources[4]?.fail();
    expect(timers.pending.map((t) => t.ms)).toEqual([1_000]);
  });

  it('reconnects at once with a new token when the token expires', async () => {
    const { stream, sources, timers } = setup();
    stream.start();
    await flush();
    sources[0]?.emit('ready');
    sources[0]?.emit('token-expired');
    await flush();
    expect(sources[0]?.closed).toBe(true);
    expect(timers.pending).toHaveLength(0);
    expect(sources[1]?.url).toBe('/api/v1/stream?access_token=t2');
  });

  it('ignores events of a connection it has replaced', async () => {
    const { stream, sources, timers, events } = setup();
    stream.start();
    await flush();
    sources[0]?.fail();
    timers.runNext();
    await flush();
    sources[0]?.emit('notification', '{"old":true}');
    sources[0]?.fail();
    expect(events).toEqual([]);
    expect(timers.pending).toHaveLength(0);
  });

  it("opens a visitor's stream without a token (signed out), and the token stream once one is there", async () => {
    const { stream, sources, events } = setup([undefined, 't1']);
    stream.start();
    await flush();
    expect(sources[0]?.url).toBe('/api/v1/stream');
    sources[0]?.emit('ready');
    sources[0]?.emit('leaderboard', '{"board":"global"}');
    expect(stream.status).toBe('live');
    expect(events).toEqual([
      { type: 'ready', data: null },
      { type: 'leaderboard', data: { board: 'global' } },
    ]);
    stream.restart(); // signed in
    await flush();
    expect(sources[0]?.closed).toBe(true);
    expect(sources[1]?.url).toBe('/api/v1/stream?access_token=t1');
  });

  it('stops on stop(), leaving no timer behind', async () => {
    const { stream, sources, timers } = setup();
    stream.start();
    await flush();
    sources[0]?.fail();
    stream.stop();
    expect(timers.pending).toHaveLength(0);
    expect(stream.status).toBe('stopped');
  });
});
