/**
 * `npm run bench -- <suite> [more suites]` runs every bench/<suite>/*.bench.ts file in
 * sequence, each in its own process. A bench prints its figures and writes JSON to
 * bench/results/<suite>-<file>.json (see bench/README.md).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const suites = process.argv.slice(2);
const available = readdirSync(__dirname, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'results')
  .map((d) => d.name);
if (suites.length === 0) {
  console.error(`usage: npm run bench -- <suite...>   (suites: ${available.join(', ')})`);
  process.exit(2);
}
let failed = false;
for (const suite of suites) {
  const dir = join(__dirname, suite);
  if (!existsSync(dir)) {
    console.error(`unknown bench suite "${suite}" (suites: ${available.join(', ')})`);
    process.exit(2);
  }
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()) {
    console.log(`\n=== bench ${suite}/${file} ===`);
    const r = spawnSync(process.execPath, ['--conditions=@quizmesh/source', '--import', 'tsx', join(dir, file)], {
      stdio: 'inherit',
      env: process.env,
    });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
