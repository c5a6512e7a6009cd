/**
 * The package's programs run the TypeScript in a source checkout even when a dist/ from an
 * earlier `npm run build` is there (it may be older than the source), and the compiled file in
 * an image, where only dist/ and bin/ are copied.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..', '..');

describe.each(['quizmesh-migrate', 'quizmesh-embedded-postgres'])('%s', (bin) => {
  const program = bin.replace('quizmesh-', '');
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qm-bin-'));
    cpSync(join(__dirname, '..', 'bin'), join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'src', 'db', 'cli'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'db', 'cli'), { recursive: true });
    const says = (what: string) => `console.log(${JSON.stringify(what)}, JSON.stringify(process.argv.slice(2)));\n`;
    writeFileSync(join(dir, 'src', 'db', 'cli', `${program}.ts`), says('source'));
    writeFileSync(join(dir, 'dist', 'db', 'cli', `${program}.js`), says('dist'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  // tsx is found through the repository's node_modules, as in a checkout.
  const run = () =>
    execFileSync(process.execPath, [join(dir, 'bin', `${bin}.cjs`), '--schema', 'x'], {
      env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') },
      encoding: 'utf8',
    }).trim();

  it('runs the source in a checkout, never a dist/ left by an earlier build', () => {
    expect(run()).toBe('source ["--schema","x"]');
  });

  it('runs dist/ where there is no source (an image)', () => {
    rmSync(join(dir, 'src'), { recursive: true });
    expect(run()).toBe('dist ["--schema","x"]');
  });
});
