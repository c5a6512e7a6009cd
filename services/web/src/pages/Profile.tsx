import { useState } from 'react';
import { api, must } from '../api/client';
import { ActionButton, ErrorNote, Field, Page } from '../components';
import { useLoad, useSession } from '../hooks';
import { ApiProblem } from '../session';

export function Profile() {
  const me = useSession();
  const profile = useLoad(() => must(api.GET('/api/v1/users/me')), [me?.userId]);
  const stats = useLoad(
    () =>
      me
        ? must(api.GET('/api/v1/results/users/{userId}/stats', { params: { path: { userId: me.userId } } }))
        : Promise.resolve(undefined),
    [me?.userId],
  );
  const [name, setName] = useState<string>();
  const [nameError, setNameError] = useState<string>();
  const s = stats.data;
  return (
    <Page title="Your profile">
      <ErrorNote error={profile.error} />
      {profile.data && (
        <>
          <dl className="facts">
            <dt>Email</dt>
            <dd>{profile.data.email}</dd>
            <dt>Roles</dt>
            <dd>{profile.data.roles.join(', ')}</dd>
          </dl>
          <Field
            id="display-name"
            label="Display name"
            value={name ?? profile.data.displayName}
            onChange={setName}
            error={nameError}
          />
          <ActionButton
            label="Save name"
            action={async () => {
              setNameError(undefined);
              try {
                await must(
                  api.PATCH('/api/v1/users/me', { body: { displayName: name ?? profile.data?.displayName ?? '' } }),
                );
                profile.reload();
              } catch (e) {
                if (e instanceof ApiProblem) setNameError(e.fieldErrors().displayName ?? e.message);
                else throw e;
              }
            }}
          />
        </>
      )}
      <h2>Statistics</h2>
      <ErrorNote error={stats.error} />
      {s && (
        <dl className="facts">
          <dt>Attempts</dt>
          <dd>{s.attempts}</dd>
          <dt>Best</dt>
          <dd>{s.bestPercent === null ? '—' : `${s.bestPercent} % (${s.bestScore} points)`}</dd>
          <dt>Average</dt>
          <dd>{s.averagePercent === null ? '—' : `${s.averagePercent} %`}</dd>
          <dt>Last played</dt>
          <dd>{s.lastPlayedAt ? new Date(s.lastPlayedAt).toLocaleString() : '—'}</dd>
        </dl>
      )}
    </Page>
  );
}
