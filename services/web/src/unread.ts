/** The unread count in the header: fetched on sign-in, on every stream (re)connection and notification, and after reading. */
import { useEffect, useState } from 'react';
import { api } from './api/client';
import { useSession } from './hooks';
import { useLive } from './live';

const listeners = new Set<() => void>();
export function notifyUnreadChanged(): void {
  for (const l of listeners) l();
}

export function useUnreadCount(): number | undefined {
  const me = useSession();
  const [count, setCount] = useState<number>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((t) => t + 1);
    listeners.add(bump);
    return () => {
      listeners.delete(bump);
    };
  }, []);
  useLive(
    (e) => e.type === 'notification',
    () => setTick((t) => t + 1),
  );
  useEffect(() => {
    if (!me) {
      setCount(undefined);
      return;
    }
    let cancelled = false;
    void api.GET('/api/v1/notifications', { params: { query: { limit: 1 } } }).then(({ data }) => {
      if (!cancelled && data) setCount(data.unreadCount);
    });
    return () => {
      cancelled = true;
    };
  }, [me, tick]);
  return count;
}
