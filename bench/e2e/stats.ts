/** Writing the e2e benchmarks' results (not a bench itself: no `.bench.ts`). */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export function writeResult(name: string, body: Record<string, unknown>) {
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: `e2e-${name}`, date: new Date().toISOString(), node: process.version, cpus: cpus().length, ...body }, null, 2)}\n`,
  );
  console.log(`\nwrote ${file}`);
}
