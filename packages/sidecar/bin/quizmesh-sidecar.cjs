#!/usr/bin/env node
/**
 * quizmesh-sidecar launcher: runs the compiled dist/cli.js when it exists (images), else the
 * TypeScript source through tsx with the `@quizmesh/source` export condition (checkouts).
 * The tsx path runs in a child process; signals are forwarded and its exit code is ours.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
const compiled = join(__dirname, '..', 'dist', 'cli.js');

if (existsSync(compiled)) {
  require(compiled).main(args);
} else {
  const tsx = require.resolve('tsx');
  const child = spawn(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', tsx, join(__dirname, '..', 'src', 'cli.ts'), ...args],
    { stdio: 'inherit', env: { ...process.env, QUIZMESH_SIDECAR_LAUNCHER_PID: String(process.pid) } },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}
