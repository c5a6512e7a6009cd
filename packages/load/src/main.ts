/**
 * `npm run load -- --url <gateway> [--players N] [--rate R] [--duration S] …` (flags.ts USAGE).
 * Prints a progress line (rewritten in place on a terminal, a plain line every 5 s otherwise),
 * then the summary, and writes it as JSON. Exit 0 when nothing but documented rate limits went
 * wrong, 1 otherwise, 2 for bad flags. Ctrl-C once: stop arriving, drain, summarise; twice: now.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FlagError, MAX_PLAYERS, parseLoadFlags, USAGE } from './flags';
import { progressLine, summaryLines } from './report';
import { runLoad } from './run';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseLoadFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`load: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    print(USAGE);
    return 0;
  }
  const options = parsed.options;
  // npm run changes into the repo root; a relative --out is the caller's.
  const out = options.out
    ? resolve(process.env.INIT_CWD ?? process.cwd(), options.out)
    : join(REPO_ROOT, '.quizmesh', 'load', `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);

  print(
    `load: ${options.players} player(s), ${options.rate} session(s)/s for ${options.durationS} s against ${options.url.origin}`,
  );
  print(
    `  every player shares this machine's address: per-address limits (requests, registrations, at most ${MAX_PLAYERS} ` +
      'live streams) apply to all of them together; 429s are waited out per Retry-After and counted apart from errors',
  );
  if (options.author)
    print(
      `  author: ${options.author.email}${options.author.source === 'local-default' ? " (npm start's local admin)" : ''}`,
    );
  else print(`  author: ${options.authorSkipReason}`);

  const tty = process.stdout.isTTY === true;
  let interrupts = 0;
  let control: { stop(): void; abort(): void } | undefined;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nload: stopping (draining the sessions in flight; Ctrl-C again to stop now)\n');
      control?.stop();
    } else control?.abort();
  };
  process.on('SIGINT', onSigint);
  let lastPlain = 0;
  const summary = await runLoad(options, {
    control: (c) => (control = c),
    progressEveryMs: tty ? 500 : 1000,
    progress: (snapshot) => {
      if (tty) process.stdout.write(`\r\x1b[2K${progressLine(snapshot)}`);
      else if (snapshot.elapsedS - lastPlain >= 5) {
        lastPlain = snapshot.elapsedS;
        print(progressLine(snapshot));
      }
    },
  });
  process.off('SIGINT', onSigint);
  if (tty) process.stdout.write('\r\x1b[2K');
  for (const line of summaryLines(summary)) print(line);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  print(`summary: ${out}`);
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
