#!/usr/bin/env node
/**
 * quizmesh-sidecar launcher: in a source checkout (src/ is there) the TypeScript through tsx with
 * the `@quizmesh/source` export condition, always, even when an earlier `npm run build` left a
 * dist/ that may be older than the source; in an image (only dist/ is copied) dist/cli.js.
 * The tsx path runs in a child process; signals are forwarded and its exit code is ours.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
const source = join(__dirname, '..', 'src', 'cli.ts');

if (!existsSync(source)) {
  require(join(__dirname, '..', 'dist', 'cli.js')).main(args);
} else {
  const tsx = require.resolve('tsx');
  const child = spawn(process.execPath, ['--conditions=@quizmesh/source', '--import', tsx, source, ...args], {
    stdio: 'inherit',
    env: { ...process.env, QUIZMESH_SIDECAR_LAUNCHER_PID: String(process.pid) },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}
