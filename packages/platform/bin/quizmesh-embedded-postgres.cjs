#!/usr/bin/env node
'use strict';
// Runs the compiled CLI from dist/ (images); in a source checkout, the TypeScript through tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', 'dist', 'db', 'cli', 'embedded-postgres.js');
if (existsSync(compiled)) {
  require(compiled);
} else {
  const { spawn } = require('node:child_process');
  const { pathToFileURL } = require('node:url');
  const tsx = pathToFileURL(require.resolve('tsx')).href; // absolute: works from any working directory
  const source = join(__dirname, '..', 'src', 'db', 'cli', 'embedded-postgres.ts');
  const child = spawn(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', tsx, source, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  // The child does the work; pass stop signals on so it can shut down cleanly.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
