import { api, must } from '../../api/client';
import { ErrorNote, Page } from '../../components';
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
          <table className="list">
            <caption className="visually-hidden">Services</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>gateway</td>
                <td>{status.data.gateway.status}</td>
              </tr>
              {status.data.services.map((s) => (
                <tr key={s.appId}>
                  <td>{s.appId}</td>
                  <td>{s.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Page>
  );
}
