/**
 * quizmesh-sidecar runs the TypeScript in a source checkout even when a dist/ from an earlier
 * `npm run build` is there (it may be older than the source), and dist/cli.js in an image.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');

describe('quizmesh-sidecar', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qm-sidecar-bin-'));
    cpSync(join(__dirname, '..', 'bin'), join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'src', 'cli.ts'), `console.log('source', JSON.stringify(process.argv.slice(2)));\n`);
    writeFileSync(join(dir, 'dist', 'cli.js'), `exports.main = (args) => console.log('dist', JSON.stringify(args));\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = () =>
    execFileSync(process.execPath, [join(dir, 'bin', 'quizmesh-sidecar.cjs'), '--app-id', 'x'], {
      // tsx is found through the repository's node_modules, as in a checkout.
      env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') },
      encoding: 'utf8',
    }).trim();

  it('runs the source in a checkout, never a dist/ left by an earlier build', () => {
    expect(run()).toBe('source ["--app-id","x"]');
  });

  it('runs dist/cli.js where there is no source (an image)', () => {
    rmSync(join(dir, 'src'), { recursive: true });
    expect(run()).toBe('dist ["--app-id","x"]');
  });
});
