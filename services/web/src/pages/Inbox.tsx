import { api, must } from '../api/client';
import { ActionButton, ErrorNote, Page } from '../components';
import { useLoad } from '../hooks';
import { useLive } from '../live';
import { notifyUnreadChanged } from '../unread';

export function Inbox() {
  const inbox = useLoad(() => must(api.GET('/api/v1/notifications', { params: { query: { limit: 50 } } })), []);
  useLive((e) => e.type === 'notification', inbox.reload);
  const changed = () => {
    inbox.reload();
    notifyUnreadChanged();
  };
  return (
    <Page title="Inbox">
      <ErrorNote error={inbox.error} />
      {inbox.data && (
        <>
          <p aria-live="polite">{inbox.data.unreadCount} unread</p>
          {inbox.data.unreadCount > 0 && (
            <ActionButton
              label="Mark all read"
              action={async () => {
                await must(api.POST('/api/v1/notifications/read-all'));
                changed();
              }}
            />
          )}
          {inbox.data.items.length === 0 && <p>No messages yet.</p>}
          <ul className="inbox">
            {inbox.data.items.map((n) => (
              <li key={n.id} className={n.readAt ? 'read' : 'unread'}>
                <h2>{n.title}</h2>
                <p className="meta">{new Date(n.createdAt).toLocaleString()}</p>
                <p className="message">{n.body}</p>
                {!n.readAt && (
                  <ActionButton
                    label="Mark read"
                    action={async () => {
                      await must(api.POST('/api/v1/notifications/{id}/read', { params: { path: { id: n.id } } }));
                      changed();
                    }}
                  />
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}
