import { api, must } from '../../api/client';
import { ActionButton, ErrorNote, Page, Table } from '../../components';
import { useLoad } from '../../hooks';
import type { Role } from '../../session';

const ROLES: Role[] = ['player', 'author', 'admin'];

export function Users() {
  const users = useLoad(() => must(api.GET('/api/v1/admin/users', { params: { query: { limit: 100 } } })), []);
  return (
    <Page title="Users and roles">
      <ErrorNote error={users.error} />
      <Table
        kind="list"
        caption="Accounts, newest first"
        rows={users.data?.items}
        rowKey={(u) => u.id}
        columns={[
          { header: 'Name', cell: (u) => u.displayName },
          { header: 'Email', cell: (u) => u.email },
          {
            header: 'Roles',
            cell: (u) =>
              ROLES.map((role) => {
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
              }),
          },
        ]}
      />
    </Page>
  );
}
