#!/usr/bin/env node
'use strict';
/**
 * quizmesh-prisma-generate [--schema prisma/schema.prisma] [extra `prisma generate` flags]
 *
 * Runs `prisma generate` without ever downloading Prisma's native schema engine: generate
 * does not run that engine, it only insists that one exists, so PRISMA_SCHEMA_ENGINE_BINARY
 * points at an existing file (the WebAssembly engine we migrate with). Plain CommonJS with no
 * TypeScript, so it works from `npm install`'s postinstall and in a Docker build alike.
 */
const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const args = process.argv.slice(2);
if (!args.includes('--schema') && !args.some((a) => a.startsWith('--schema='))) {
  const schema = resolve('prisma', 'schema.prisma');
  if (!existsSync(schema)) {
    console.error(`quizmesh-prisma-generate: no --schema given and ${schema} does not exist`);
    process.exit(2);
  }
  args.push('--schema', schema);
}

const prismaCli = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
const engineStandIn = join(
  dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
  'schema_engine_bg.wasm',
);
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || engineStandIn,
  // No network calls from a build step: telemetry and update checks off.
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const child = spawn(process.execPath, [prismaCli, 'generate', ...args], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
