import { api, must } from '../../api/client';
import { ErrorNote, Page, Table } from '../../components';
import { useLoad } from '../../hooks';

export function Status() {
  const status = useLoad(async () => {
    const result = await api.GET('/api/v1/status');
    // 503 still carries the status document (degraded).
    if (result.data) return result.data;
    if (result.error && typeof result.error === 'object' && 'services' in result.error) return result.error as never;
    return must(Promise.resolve(result));
  }, []);
  return (
    <Page title="Platform status">
      <ErrorNote error={status.error} />
      {status.data && (
        <>
          <p>
            Overall: <strong>{status.data.status}</strong>
          </p>
          <Table
            kind="list"
            caption="Services"
            rows={[{ appId: 'gateway', status: status.data.gateway.status }, ...status.data.services]}
            rowKey={(s) => s.appId}
            columns={[
              { header: 'Service', cell: (s) => s.appId },
              { header: 'Status', cell: (s) => s.status },
            ]}
          />
        </>
      )}
    </Page>
  );
}
