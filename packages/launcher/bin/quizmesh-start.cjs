#!/usr/bin/env node
'use strict';
/**
 * `npm start` and `npm run reset`: brings the workspace's compiled/ up to date (compile.cjs), then
 * runs the launcher's compiled main in this same process: no TypeScript loader in the launcher or
 * in any process it starts (docs/decisions/0880-compile-once-for-npm-start.md).
 */
const { join } = require('node:path');
const { compileWorkspaces, COMPILED_CONDITION } = require('../compile.cjs');

// The launcher's compiled code imports workspace packages (@quizmesh/platform/process) through
// their compiled/ export, which only this condition selects (package.json's start and reset).
if (!process.execArgv.includes(`--conditions=${COMPILED_CONDITION}`)) {
  console.error(`✗ run the launcher as \`node --conditions=${COMPILED_CONDITION} ${__filename}\` (npm start does)`);
  process.exit(1);
}

compileWorkspaces(join(__dirname, '..', '..', '..')).then(
  ({ transpiled, ms }) => {
    if (transpiled > 0) console.log(`Compiled ${transpiled} TypeScript files in ${(ms / 1000).toFixed(1)} s`);
    require('../compiled/main.js');
  },
  (error) => {
    console.error(`✗ compiling the workspace failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
