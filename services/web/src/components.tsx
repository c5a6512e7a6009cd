import { useState, type ReactNode } from 'react';
import { ApiProblem } from './session';

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const text = error instanceof ApiProblem ? `${error.message} (${error.status})` : error.message;
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

export function Page({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
    </section>
  );
}

/** A labelled input with its error from the API shown at the field (and tied to it for screen readers). */
export function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  type?: string;
  multiline?: boolean;
  autoComplete?: string;
  required?: boolean;
}) {
  const errorId = `${props.id}-error`;
  const common = {
    id: props.id,
    value: props.value,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': props.error ? errorId : undefined,
    required: props.required,
  };
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} onChange={(e) => props.onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={props.type ?? 'text'}
          autoComplete={props.autoComplete}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.error && (
        <p id={errorId} className="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A button that disables itself while its action runs and shows the action's failure. */
export function ActionButton({
  label,
  action,
  className,
}: {
  label: string;
  action: () => Promise<unknown>;
  className?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  return (
    <>
      <button
        type="button"
        className={className}
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          action()
            .catch((e: unknown) => setError(e instanceof Error ? e : new Error(String(e))))
            .finally(() => setBusy(false));
        }}
      >
        {label}
      </button>
      <ErrorNote error={error} />
    </>
  );
}

export interface BoardRow {
  rank: number;
  userId: string;
  displayName?: string | null | undefined;
  score: number;
}

export interface Column<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
}

/**
 * The app's one table: a header cell per column, a row per item. `list` tables (admin and
 * author pages) keep their caption for screen readers only; the leaderboard shows it.
 */
export function Table<Row>({
  kind,
  caption,
  columns,
  rows,
  rowKey,
  rowClass,
}: {
  kind: 'list' | 'board';
  caption: string;
  columns: ReadonlyArray<Column<Row>>;
  rows: readonly Row[] | undefined;
  rowKey: (row: Row) => string;
  rowClass?: (row: Row) => string | undefined;
}) {
  return (
    <table className={kind}>
      <caption className={kind === 'list' ? 'visually-hidden' : undefined}>{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column.header} scope="col">
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows?.map((row) => (
          <tr key={rowKey(row)} className={rowClass?.(row)}>
            {columns.map((column) => (
              <td key={column.header}>{column.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Board({ rows, caption, me }: { rows: readonly BoardRow[]; caption: string; me?: string | undefined }) {
  if (rows.length === 0) return <p>No scores yet.</p>;
  return (
    <Table
      kind="board"
      caption={caption}
      rows={rows}
      rowKey={(r) => r.userId}
      rowClass={(r) => (r.userId === me ? 'me' : undefined)}
      columns={[
        { header: 'Rank', cell: (r) => r.rank },
        { header: 'Player', cell: (r) => r.displayName ?? `player ${r.userId.slice(0, 6)}` },
        { header: 'Score', cell: (r) => r.score },
      ]}
    />
  );
}
