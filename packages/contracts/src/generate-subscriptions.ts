/** `npm run generate`: writes components/common/subscriptions-*.yaml from the system registry. */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderAllSubscriptions, SUBSCRIPTIONS_DIR } from './subscriptions-yaml';

const dir = resolve(__dirname, '..', '..', '..', SUBSCRIPTIONS_DIR);
const files = renderAllSubscriptions();
// A file of an app that no longer consumes anything must go too.
for (const stale of readdirSync(dir).filter((f) => /^subscriptions-.*\.yaml$/.test(f) && !files.has(f)))
  rmSync(join(dir, stale));
for (const [file, text] of files) writeFileSync(join(dir, file), text);
process.stdout.write(`${SUBSCRIPTIONS_DIR}: ${[...files.keys()].join(', ')}\n`);
