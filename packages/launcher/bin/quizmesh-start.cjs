#!/usr/bin/env node
'use strict';
/**
 * `npm start` and `npm run reset`: brings the workspace's compiled/ up to date (compile.cjs), then
 * runs the launcher's compiled main in this same process: no TypeScript loader in the launcher or
 * in any process it starts (docs/decisions/0880-compile-once-for-npm-start.md).
 */
const { join } = require('node:path');
const { compileWorkspaces } = require('../compile.cjs');

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
