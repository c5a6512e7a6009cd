import { useState } from 'react';
import { api, getJson, must } from '../api/client';
import { Board, ErrorNote, Page, type BoardRow } from '../components';
import { useLoad, useSession } from '../hooks';
import { useLive } from '../live';

type Tab = 'global' | 'weekly';
const TABS: Record<Tab, string> = { global: 'All time', weekly: 'This week' };

export function Leaderboards() {
  const [tab, setTab] = useState<Tab>('global');
  return (
    <Page title="Leaderboards">
      <div role="group" aria-label="Board" className="tabs">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} type="button" aria-pressed={tab === t} onClick={() => setTab(t)}>
            {TABS[t]}
          </button>
        ))}
      </div>
      {/* Keyed by board: switching never shows one board's rows under the other's name. */}
      <LiveBoard key={tab} board={tab} />
    </Page>
  );
}

function LiveBoard({ board }: { board: Tab }) {
  const me = useSession();
  const page = useLoad(
    async (): Promise<{ entries: BoardRow[] }> =>
      board === 'global'
        ? must(api.GET('/api/v1/leaderboards/global', { params: { query: { limit: '50' } } }))
        : // The current ISO week, as the server counts it (the endpoint comes with issue 14's API change).
          getJson<{ entries: BoardRow[] }>('/api/v1/leaderboards/weekly/current?limit=50'),
    [board, me?.userId],
  );
  useLive((e) => e.type === 'leaderboard' && (e.data as { board?: string }).board === board, page.reload);
  return (
    <>
      <ErrorNote error={page.error} />
      <div aria-live="polite">
        {page.data && <Board rows={page.data.entries} caption={TABS[board]} me={me?.userId} />}
      </div>
    </>
  );
}
