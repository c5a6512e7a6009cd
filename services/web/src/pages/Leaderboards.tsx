import { useState } from 'react';
import { api, getJson, must } from '../api/client';
import { Board, ErrorNote, Page, type BoardRow } from '../components';
import { useLoad, useSession } from '../hooks';
import { useLive } from '../live';

type Tab = 'global' | 'weekly';

export function Leaderboards() {
  const [tab, setTab] = useState<Tab>('global');
  const me = useSession();
  const board = useLoad(
    async (): Promise<{ entries: BoardRow[] }> =>
      tab === 'global'
        ? must(api.GET('/api/v1/leaderboards/global', { params: { query: { limit: '50' } } }))
        : getJson<{ entries: BoardRow[] }>('/api/v1/leaderboards/weekly/current?limit=50'),
    [tab, me?.userId],
  );
  useLive((e) => e.type === 'leaderboard' && (e.data as { board?: string }).board === tab, board.reload);
  return (
    <Page title="Leaderboards">
      <div role="group" aria-label="Board" className="tabs">
        {(['global', 'weekly'] as const).map((t) => (
          <button key={t} type="button" aria-pressed={tab === t} onClick={() => setTab(t)}>
            {t === 'global' ? 'All time' : 'This week'}
          </button>
        ))}
      </div>
      <ErrorNote error={board.error} />
      <div aria-live="polite">
        {board.data && (
          <Board rows={board.data.entries} caption={tab === 'global' ? 'All time' : 'This week'} me={me?.userId} />
        )}
      </div>
    </Page>
  );
}
