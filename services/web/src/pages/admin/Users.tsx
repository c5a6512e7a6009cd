import { api, must } from '../../api/client';
import { ActionButton, ErrorNote, Page } from '../../components';
import { useLoad } from '../../hooks';
import type { Role } from '../../session';

const ROLES: Role[] = ['player', 'author', 'admin'];

export function Users() {
  const users = useLoad(() => must(api.GET('/api/v1/admin/users', { params: { query: { limit: 100 } } })), []);
  return (
    <Page title="Users and roles">
      <ErrorNote error={users.error} />
      <table className="list">
        <caption className="visually-hidden">Accounts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Roles</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.items.map((u) => (
            <tr key={u.id}>
              <td>{u.displayName}</td>
              <td>{u.email}</td>
              <td>
                {ROLES.map((role) => {
                  const has = u.roles.includes(role);
                  const next = has ? u.roles.filter((r) => r !== role) : [...u.roles, role];
                  return (
                    <ActionButton
                      key={role}
                      label={`${has ? 'Remove' : 'Grant'} ${role}`}
                      className={has ? 'on' : undefined}
                      action={async () => {
                        if (next.length === 0) return;
                        await must(
                          api.PUT('/api/v1/admin/users/{id}/roles', {
                            params: { path: { id: u.id } },
                            body: { roles: next },
                          }),
                        );
                        users.reload();
                      }}
                    />
                  );
                })}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
