'use strict';
/**
 * Compile once (docs/decisions/0880-compile-once-for-npm-start.md): `npm start` transpiles the
 * TypeScript of every workspace its processes run, with esbuild, into `<workspace>/compiled/`
 * (tsc's dist/ layout, so `__dirname`-relative paths still hold), and every child runs plain
 * `node --conditions=@quizmesh/compiled`: no tsx loader thread, no esbuild helper process per
 * child, no source maps held by every process.
 *
 * Incremental and never stale: a manifest keeps each source's size and mtime; at every start the
 * sources are listed and stat'ed (a few ms), and only when one was added, removed or changed does
 * esbuild run. Outputs are written to a temporary name and renamed, so launchers starting side by
 * side (tests) never read a half-written file. dist/ stays tsc's, for images (`npm run build`).
 *
 * CommonJS so that the launcher's bootstrap (bin/quizmesh-start.cjs) can compile the launcher
 * itself before loading it.
 */
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} = require('node:fs');
const { dirname, join, relative } = require('node:path');

/** the export condition every compiled workspace maps to its `compiled/` files */
const COMPILED_CONDITION = '@quizmesh/compiled';
const COMPILED_DIR = 'compiled';
const MANIFEST = '.sources.json';
/** bumped when the esbuild options change, so every output is made again */
const FORMAT_VERSION = 1;

/**
 * Workspaces a child of the launcher runs: services with a `quizmesh` manifest, and packages
 * whose exports declare the compiled condition.
 */
function runtimeWorkspaces(repoRoot) {
  const found = [];
  for (const parent of ['packages', 'services']) {
    for (const name of readdirSync(join(repoRoot, parent)).sort()) {
      const dir = join(repoRoot, parent, name);
      const pkgFile = join(dir, 'package.json');
      if (!existsSync(pkgFile) || !existsSync(join(dir, 'src'))) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      if (pkg.quizmesh !== undefined || JSON.stringify(pkg.exports ?? {}).includes(COMPILED_CONDITION)) found.push(dir);
    }
  }
  return found;
}

/** `src/**\/*.ts` but tests and declarations, as paths relative to `src`. */
function listSources(srcDir, sub = '') {
  const out = [];
  for (const entry of readdirSync(join(srcDir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listSources(srcDir, rel));
    else if (/\.ts$/.test(entry.name) && !/\.(test|d)\.ts$/.test(entry.name)) out.push(rel);
  }
  return out;
}

function readManifest(outDir) {
  try {
    const manifest = JSON.parse(readFileSync(join(outDir, MANIFEST), 'utf8'));
    return manifest.version === FORMAT_VERSION ? manifest.files : {};
  } catch {
    return {};
  }
}

/** Writes `content` to `file` through a temporary name: a reader sees the old file or the new one. */
function writeAtomically(file, content) {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** Removes outputs whose source is gone (a compiled file left behind could still be required). */
function removeStale(outDir, keep, sub = '') {
  if (!existsSync(join(outDir, sub))) return;
  for (const entry of readdirSync(join(outDir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) removeStale(outDir, keep, rel);
    else if (rel !== MANIFEST && !keep.has(rel)) unlinkSync(join(outDir, rel));
  }
}

/** the compile running in this process, if any (see compileWorkspaces) */
let inProgress = Promise.resolve();

/**
 * Brings every runtime workspace's `compiled/` up to date with its `src/`.
 * Resolves with how many files were transpiled (0 when nothing changed) and the milliseconds spent.
 * Calls in one process run one after another: esbuild's service is one per process, and the
 * `stop()` that ends one call would strand a build of another (two launchers started together).
 */
function compileWorkspaces(repoRoot) {
  const run = inProgress.then(() => compileNow(repoRoot));
  inProgress = run.catch(() => undefined);
  return run;
}

async function compileNow(repoRoot) {
  const started = performance.now();
  const stale = [];
  for (const dir of runtimeWorkspaces(repoRoot)) {
    const srcDir = join(dir, 'src');
    const outDir = join(dir, COMPILED_DIR);
    const previous = readManifest(outDir);
    const files = {};
    let changed = false;
    for (const rel of listSources(srcDir)) {
      const stat = statSync(join(srcDir, rel));
      files[rel] = [stat.size, stat.mtimeMs];
      const before = previous[rel];
      if (!before || before[0] !== stat.size || before[1] !== stat.mtimeMs) changed = true;
    }
    if (Object.keys(previous).length !== Object.keys(files).length) changed = true;
    if (changed) stale.push({ dir, srcDir, outDir, files });
  }
  let transpiled = 0;
  if (stale.length > 0) {
    // Loaded only when something changed: esbuild's service is a child process, stopped below.
    const esbuild = require('esbuild');
    try {
      for (const { srcDir, outDir, files } of stale) {
        const sources = Object.keys(files);
        const result = await esbuild.build({
          entryPoints: sources.map((rel) => join(srcDir, rel)),
          outbase: srcDir,
          outdir: outDir,
          // What tsx did per process: TypeScript to CommonJS, file by file (isolatedModules holds).
          bundle: false,
          format: 'cjs',
          platform: 'node',
          target: 'node20',
          sourcemap: 'linked',
          sourcesContent: false,
          write: false,
          logLevel: 'silent',
        });
        const keep = new Set();
        for (const output of result.outputFiles) {
          const rel = relative(outDir, output.path).split('\\').join('/');
          keep.add(rel);
          const current = existsSync(output.path) ? readFileSync(output.path) : undefined;
          if (!current || !current.equals(Buffer.from(output.contents))) writeAtomically(output.path, output.contents);
        }
        removeStale(outDir, keep);
        writeAtomically(join(outDir, MANIFEST), JSON.stringify({ version: FORMAT_VERSION, files }));
        transpiled += sources.length;
      }
    } finally {
      await esbuild.stop();
    }
  }
  return { transpiled, ms: Math.round(performance.now() - started) };
}

module.exports = { compileWorkspaces, runtimeWorkspaces, COMPILED_CONDITION, COMPILED_DIR };
