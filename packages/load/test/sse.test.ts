import { SseParser } from '../src/sse';

describe('SSE parser', () => {
  it('dispatches events on a blank line, with event, id and multi-line data', () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n\nevent: ready\ndata: {"replay":false}\n\n')).toEqual([
      { event: 'ready', data: '{"replay":false}', id: undefined },
    ]);
    expect(p.push('id: e1\nevent: leaderboard\ndata: a\ndata: b\n\n')).toEqual([
      { event: 'leaderboard', data: 'a\nb', id: 'e1' },
    ]);
  });

  it('ignores comments (heartbeats) and events without data', () => {
    const p = new SseParser();
    expect(p.push(': heartbeat\n\nevent: empty\n\n')).toEqual([]);
    expect(p.push('data: x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('joins chunks split anywhere, CRLF and CR line ends included', () => {
    const p = new SseParser();
    // The last \r is known to end a line only once the next character is not \n.
    const text = 'event: notification\r\ndata: {"kind":"result"}\r\n\r\nevent: x\rdata: y\r\r: heartbeat\n';
    const events = [...text].flatMap((ch) => p.push(ch));
    expect(events).toEqual([
      { event: 'notification', data: '{"kind":"result"}', id: undefined },
      { event: 'x', data: 'y', id: undefined },
    ]);
  });

  it('takes the value after one optional space, and a field without a colon as empty', () => {
    const p = new SseParser();
    expect(p.push('data:no-space\ndata:  two\ndata\n\n')).toEqual([
      { event: 'message', data: 'no-space\n two\n', id: undefined },
    ]);
  });
});
