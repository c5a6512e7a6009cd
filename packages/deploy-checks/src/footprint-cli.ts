/**
 * Prints the footprint of a default install and, with --write, refreshes the table in
 * charts/quizmesh/README.md. Run: npm run footprint -w @quizmesh/deploy-checks [-- --write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, renderChart } from './helm';
import { computeFootprint, footprintTable, replaceFootprintBlock } from './footprint';

async function main(): Promise<void> {
  const table = footprintTable(computeFootprint(await renderChart()));
  process.stdout.write(`${table}\n`);
  if (process.argv.includes('--write')) {
    const readmePath = join(CHART_DIR, 'README.md');
    writeFileSync(readmePath, replaceFootprintBlock(readFileSync(readmePath, 'utf8'), table));
    process.stdout.write(`updated ${readmePath}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
