'use strict';
/**
 * Runs one of this package's command-line programs: in a source checkout (src/ is there) its
 * TypeScript through tsx, always, even when an earlier `npm run build` left a dist/ that may be
 * older than the source; in an image (only dist/ is copied) the compiled file.
 * `relative` is the program's path under src/ and dist/ without its extension.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

module.exports = function runCli(relative) {
  const packageDir = join(__dirname, '..');
  const source = join(packageDir, 'src', `${relative}.ts`);
  if (!existsSync(source)) {
    require(join(packageDir, 'dist', `${relative}.js`));
    return;
  }
  const { spawn } = require('node:child_process');
  const { pathToFileURL } = require('node:url');
  const tsx = pathToFileURL(require.resolve('tsx')).href; // absolute: works from any working directory
  const child = spawn(
    process.execPath,
    ['--conditions=@quizmesh/source', '--import', tsx, source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // The child does the work; pass stop signals on so it can shut down cleanly.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
};
