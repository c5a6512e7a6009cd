import { useState } from 'react';
import { api, must } from '../../api/client';
import { ActionButton, ErrorNote, Page } from '../../components';
import { useLoad } from '../../hooks';

const APPS = ['identity', 'quiz', 'evaluation', 'notification'] as const;
type App = (typeof APPS)[number];

interface DeadLetterRow {
  id: string;
  topic: string;
  receivedAt?: string;
  reason?: string | null;
}

/** The four apps' dead-letter APIs have the same shape: one path template serves them all. */
function list(app: App) {
  return must(api.GET(`/api/v1/admin/dead-letters/${app}`));
}

function act(app: App, id: string, what: 'replay' | 'discard') {
  const path = { params: { path: { id } } };
  return what === 'replay'
    ? must(api.POST(`/api/v1/admin/dead-letters/${app}/{id}/replay`, path))
    : must(api.DELETE(`/api/v1/admin/dead-letters/${app}/{id}`, path));
}

export function DeadLetters() {
  const [app, setApp] = useState<App>('evaluation');
  const letters = useLoad(() => list(app), [app]);
  const [message, setMessage] = useState('');
  const items = (letters.data?.items ?? []) as DeadLetterRow[];
  return (
    <Page title="Dead letters">
      <div className="field">
        <label htmlFor="dl-app">Service</label>
        <select id="dl-app" value={app} onChange={(e) => setApp(e.target.value as App)}>
          {APPS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <p role="status">{message}</p>
      <ErrorNote error={letters.error} />
      {letters.data && items.length === 0 && <p>No dead letters in {app}.</p>}
      <ul className="dead-letters">
        {items.map((d) => (
          <li key={d.id}>
            <p>
              <strong>{d.topic}</strong> <span className="meta">{d.id}</span>
            </p>
            {d.reason && <p className="meta">{d.reason}</p>}
            <ActionButton
              label="Replay"
              action={async () => {
                await act(app, d.id, 'replay');
                setMessage(`Replayed ${d.id}.`);
                letters.reload();
              }}
            />
            <ActionButton
              label="Discard"
              className="danger"
              action={async () => {
                await act(app, d.id, 'discard');
                setMessage(`Discarded ${d.id}.`);
                letters.reload();
              }}
            />
          </li>
        ))}
      </ul>
    </Page>
  );
}
