#!/usr/bin/env node
'use strict';
// The TypeScript through tsx in a source checkout, the compiled CLI from dist/ in an image.
require('./run-cli.cjs')('db/cli/embedded-postgres');
