/**
 * The command line of `npm run load`: every flag checked before any traffic is sent, each bad
 * one named with what it accepts (FlagError; the command exits 2).
 */
import { parseArgs } from 'node:util';

export const USAGE = `npm run load -- --url <gateway> [options]

  --url URL              the gateway's origin (http or https), e.g. http://127.0.0.1:8080; the only
                         place traffic goes (required)
  --players N            simulated players signed in at once, each with its live stream (1-50; default 5)
  --rate R               quiz sessions started per second over all players (open loop; default 1)
  --duration S           seconds of arrivals, then in-flight sessions drain and it stops (default 60)
  --accounts PREFIX      player accounts are PREFIX.player<i>@example.com, signed in again on the
                         next run (registration is limited per address; default load)
  --author-email EMAIL   an author (or admin) account that publishes a quiz now and then; on a
                         loopback URL the default is npm start's admin@quizmesh.local
  --publish-every S      seconds between the author's quizzes (default 60; the first at the start)
  --result-timeout S     how long a submission may take to show on the leaderboard (default 30)
  --out FILE             the JSON summary (default .quizmesh/load/load-<time>.json)
  --help

  Passwords come from the environment, never flags (they would land in shell history):
  QUIZMESH_LOAD_PASSWORD (players'), QUIZMESH_LOAD_AUTHOR_PASSWORD (the author's).`;

/** The gateway's per-address live-stream cap (docs/api.md): one stream per player. */
export const MAX_PLAYERS = 50;
const MAX_RATE = 50;
const MAX_DURATION_S = 86_400;

/** What npm start's identity makes an admin on registration (services/identity/package.json). */
export const LOCAL_ADMIN_EMAIL = 'admin@quizmesh.local';
/** docs/try-it.sh's password, so the tour and the load generator share the local admin. */
export const LOCAL_ADMIN_PASSWORD = 'correct horse battery staple';
/** Throwaway player accounts' password unless QUIZMESH_LOAD_PASSWORD says otherwise. */
export const DEFAULT_PLAYER_PASSWORD = 'quizmesh load player 2026';

export interface LoadOptions {
  /** origin only: `https://quiz.example.com` */
  url: URL;
  players: number;
  rate: number;
  durationS: number;
  accounts: string;
  playerPassword: string;
  /** undefined: the author part is skipped (and the summary says so) */
  author: { email: string; password: string; source: 'flags' | 'local-default' } | undefined;
  authorSkipReason: string | undefined;
  publishEveryS: number;
  resultTimeoutS: number;
  out: string | undefined;
}

export class FlagError extends Error {}

export type ParsedCommand = { help: true } | { help: false; options: LoadOptions };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

function number(
  flag: string,
  raw: string | undefined,
  fallback: number,
  { min, max, integer, why }: { min: number; max: number; integer: boolean; why?: string },
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const what = integer ? 'a whole number' : 'a number';
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  )
    throw new FlagError(
      `--${flag} must be ${what} from ${min} to ${max}${why ? ` (${why})` : ''}; got ${JSON.stringify(raw)}`,
    );
  return value;
}

export function parseGatewayUrl(raw: string | undefined): URL {
  if (raw === undefined || raw === '')
    throw new FlagError('--url is required: the gateway, e.g. http://127.0.0.1:8080');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FlagError(
      `--url must be an absolute http(s) URL such as http://127.0.0.1:8080 (got ${JSON.stringify(raw)})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FlagError(`--url must use http or https (got ${url.protocol.slice(0, -1)})`);
  if (url.username || url.password) throw new FlagError('--url must not carry credentials');
  if (url.pathname !== '/' || url.search || url.hash)
    throw new FlagError(
      `--url must be the gateway's origin with no path, query or fragment (got ${JSON.stringify(raw)})`,
    );
  return new URL(url.origin);
}

export function parseLoadFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        players: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        accounts: { type: 'string' },
        'author-email': { type: 'string' },
        'publish-every': { type: 'string' },
        'result-timeout': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  if (values.help) return { help: true };
  const str = (name: string) => values[name] as string | undefined;

  const url = parseGatewayUrl(str('url'));
  const players = number('players', str('players'), 5, {
    min: 1,
    max: MAX_PLAYERS,
    integer: true,
    why: `one live stream each, and the gateway allows ${MAX_PLAYERS} per address: run more generators for more`,
  });
  const rate = number('rate', str('rate'), 1, { min: 0.01, max: MAX_RATE, integer: false });
  const durationS = number('duration', str('duration'), 60, { min: 1, max: MAX_DURATION_S, integer: false });
  const publishEveryS = number('publish-every', str('publish-every'), 60, {
    min: 1,
    max: MAX_DURATION_S,
    integer: false,
  });
  const resultTimeoutS = number('result-timeout', str('result-timeout'), 30, { min: 1, max: 600, integer: false });

  const accounts = str('accounts') ?? 'load';
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(accounts))
    throw new FlagError(`--accounts must be 1-40 lower-case letters, digits or '-' (got ${JSON.stringify(accounts)})`);

  const playerPassword = env.QUIZMESH_LOAD_PASSWORD ?? DEFAULT_PLAYER_PASSWORD;
  if ([...playerPassword].length < 10) throw new FlagError('QUIZMESH_LOAD_PASSWORD must be at least 10 characters');

  let author: LoadOptions['author'];
  let authorSkipReason: string | undefined;
  const authorEmail = str('author-email');
  const authorPassword = env.QUIZMESH_LOAD_AUTHOR_PASSWORD;
  if (authorEmail !== undefined) {
    if (!/^[^\s@]+@[^\s@]+$/.test(authorEmail))
      throw new FlagError(`--author-email must be an email address (got ${JSON.stringify(authorEmail)})`);
    if (!authorPassword) throw new FlagError('--author-email needs the password in QUIZMESH_LOAD_AUTHOR_PASSWORD');
    author = { email: authorEmail, password: authorPassword, source: 'flags' };
  } else if (authorPassword) {
    throw new FlagError('QUIZMESH_LOAD_AUTHOR_PASSWORD is set but --author-email is not');
  } else if (isLoopback(url)) {
    author = { email: LOCAL_ADMIN_EMAIL, password: LOCAL_ADMIN_PASSWORD, source: 'local-default' };
  } else {
    authorSkipReason =
      'no --author-email for a non-local gateway: the author part is skipped (players play what is published)';
  }

  const out = str('out');
  if (out === '') throw new FlagError('--out must name a file');

  return {
    help: false,
    options: {
      url,
      players,
      rate,
      durationS,
      accounts,
      playerPassword,
      author,
      authorSkipReason,
      publishEveryS,
      resultTimeoutS,
      out,
    },
  };
}
