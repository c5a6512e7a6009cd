/**
 * Compile once (decision 0880): what `npm start` runs is always the source as it is now — an
 * edit, a new file and a removed file all reach compiled/, and nothing is transpiled when nothing
 * changed. A throw-away workspace, so the repository's own compiled/ is never touched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPILED_CONDITION, compileWorkspaces, runtimeWorkspaces } from '../compile.cjs';

let root: string;

function write(rel: string, text: string) {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** Runs the compiled entry of `services/app` the way the launcher starts a child. */
function runApp(): string {
  return execFileSync(
    process.execPath,
    [`--conditions=${COMPILED_CONDITION}`, join(root, 'services/app/compiled/main.js')],
    { cwd: root, encoding: 'utf8' },
  ).trim();
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'quizmesh-compile-'));
  write(
    'packages/lib/package.json',
    JSON.stringify({
      name: '@quizmesh/lib',
      exports: { '.': { [COMPILED_CONDITION]: './compiled/index.js', '@quizmesh/source': './src/index.ts' } },
    }),
  );
  write('packages/lib/src/index.ts', "export const greeting: string = 'hello';\n");
  write('packages/lib/src/index.test.ts', 'export {};\n');
  write('packages/other/package.json', JSON.stringify({ name: '@quizmesh/other' }));
  write('packages/other/src/index.ts', 'export {};\n');
  write('services/app/package.json', JSON.stringify({ name: '@quizmesh/app', quizmesh: {} }));
  write(
    'services/app/src/main.ts',
    "import { greeting } from '@quizmesh/lib';\nconsole.log(`${greeting} from ${__dirname.split('/').slice(-1)[0]}`);\n",
  );
  // How the workspace finds @quizmesh/lib: npm's symlink in node_modules.
  mkdirSync(join(root, 'node_modules/@quizmesh'), { recursive: true });
  execFileSync('ln', ['-s', '../../packages/lib', join(root, 'node_modules/@quizmesh/lib')]);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

it('compiles the workspaces the launcher runs, and only those', async () => {
  expect(runtimeWorkspaces(root)).toEqual([join(root, 'packages/lib'), join(root, 'services/app')]);
  expect(await compileWorkspaces(root)).toMatchObject({ transpiled: 2 });
  expect(existsSync(join(root, 'packages/lib/compiled/index.test.js'))).toBe(false);
  expect(existsSync(join(root, 'packages/other/compiled'))).toBe(false);
  // dist/'s layout: __dirname-relative paths from src/ hold in compiled/.
  expect(runApp()).toBe('hello from compiled');
});

it('runs an edited source at the next start, and transpiles nothing when nothing changed', async () => {
  await compileWorkspaces(root);
  expect(await compileWorkspaces(root)).toMatchObject({ transpiled: 0 });

  write('packages/lib/src/index.ts', "export const greeting: string = 'edited';\n");
  // Same size as before would not hide it: the mtime differs too.
  utimesSync(join(root, 'packages/lib/src/index.ts'), new Date(), new Date(Date.now() + 5_000));
  expect(await compileWorkspaces(root)).toMatchObject({ transpiled: 1 });
  expect(runApp()).toBe('edited from compiled');
});

it('removes the output of a deleted source and compiles a new one', async () => {
  write('packages/lib/src/extra.ts', 'export const extra = 1;\n');
  await compileWorkspaces(root);
  expect(existsSync(join(root, 'packages/lib/compiled/extra.js'))).toBe(true);

  rmSync(join(root, 'packages/lib/src/extra.ts'));
  write('packages/lib/src/added.ts', 'export const added = 2;\n');
  await compileWorkspaces(root);
  expect(existsSync(join(root, 'packages/lib/compiled/extra.js'))).toBe(false);
  expect(existsSync(join(root, 'packages/lib/compiled/extra.js.map'))).toBe(false);
  expect(readFileSync(join(root, 'packages/lib/compiled/added.js'), 'utf8')).toContain('added = 2');
});

it('compiles for two launchers started together in one process (one esbuild service)', async () => {
  write('packages/lib/src/extra.ts', 'export const extra = 1;\n');
  const [first, second] = await Promise.all([compileWorkspaces(root), compileWorkspaces(root)]);
  expect(first.transpiled).toBe(3);
  // The second waited for the first, and found nothing left to do.
  expect(second.transpiled).toBe(0);
  expect(runApp()).toBe('hello from compiled');
});

it('reports a syntax error with the file, and keeps the previous output', async () => {
  await compileWorkspaces(root);
  write('packages/lib/src/index.ts', 'export const = ;\n');
  await expect(compileWorkspaces(root)).rejects.toThrow(/index\.ts/);
  expect(runApp()).toBe('hello from compiled');
});
