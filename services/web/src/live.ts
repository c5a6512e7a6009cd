/** The app's one live stream and the hooks pages use to follow it. */
import { useEffect, useRef } from 'react';
import { LiveStream } from './lib/live-stream';
import { accessToken } from './session';

export const liveStream = new LiveStream({
  path: '/api/v1/stream',
  accessToken,
  open: (url) => new EventSource(url),
});

/**
 * Calls `refetch` on every (re)connection and whenever `matches` accepts an event: pages
 * re-fetch rather than patch, so what they show is always what the API says.
 */
export function useLive(matches: (event: { type: string; data: unknown }) => boolean, refetch: () => void): void {
  const latest = useRef({ matches, refetch });
  latest.current = { matches, refetch };
  useEffect(
    () =>
      liveStream.subscribe((event) => {
        if (event.type === 'ready' || latest.current.matches(event)) latest.current.refetch();
      }),
    [],
  );
}
