/**
 * The Server-Sent Events wire format as the WHATWG spec reads it, for the test clients of the
 * gateway's stream (its component tests and the end-to-end tests): chunks in, whole frames out.
 */
export interface SseFrame {
  /** `event:` (default `message`) */
  event: string;
  id: string | undefined;
  /** the `data:` lines joined by newlines; undefined when the frame had none (it dispatches nothing) */
  data: string | undefined;
  /** comment lines (`:` …, e.g. heartbeats), trimmed */
  comments: string[];
  /** `retry:` when the frame set it */
  retry: number | undefined;
}

export class SseParser {
  private buffer = '';

  /** Adds a chunk of the body; returns the frames it completed, in order. */
  feed(chunk: string): SseFrame[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const frames: SseFrame[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      frames.push(parseFrame(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + 2);
    }
    return frames;
  }
}

function parseFrame(text: string): SseFrame {
  const frame: SseFrame = { event: 'message', id: undefined, data: undefined, comments: [], retry: undefined };
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      frame.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') frame.event = value;
    else if (field === 'id') frame.id = value;
    else if (field === 'retry') frame.retry = Number(value);
    else if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
  }
  return frame;
}
