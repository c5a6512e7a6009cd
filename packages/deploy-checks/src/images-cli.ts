/**
 * npm run images:check [-- --cold] [--storage-driver overlay|vfs] [--record]
 *
 * Builds every service image and the dev image from HEAD with buildah, runs each migration and
 * each service from its image with the rendered chart's configuration, and checks the probes.
 * Needs root, `buildah` and `debootstrap` (.ci/run installs them), PostgreSQL and Redis on
 * 127.0.0.1. Writes <out>/summary.json; --record also writes bench/results/images-check.json.
 * --cold removes the stand-in base, the built images and the npm cache mount first (to measure
 * a first run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './helm';
import { runImageCheck } from './images';

const { values } = parseArgs({
  options: {
    cold: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    'storage-driver': { type: 'string', default: process.env.QUIZMESH_IMAGES_DRIVER ?? 'overlay' },
    'storage-root': { type: 'string', default: process.env.QUIZMESH_IMAGES_ROOT ?? '/var/lib/quizmesh-images' },
    out: { type: 'string', default: join(REPO_ROOT, '.quizmesh', 'images') },
    'probe-timeout': { type: 'string', default: '90' },
    'admin-database-url': {
      type: 'string',
      default: process.env.QUIZMESH_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    },
  },
});

/** Progress goes to stdout (CI log); errors to stderr. */
function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  for (const tool of ['buildah', 'debootstrap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: apt-get install -y buildah debootstrap`);
    }
  }
  const driver = values['storage-driver'];
  if (driver !== 'overlay' && driver !== 'vfs')
    throw new Error(`--storage-driver must be overlay or vfs, got ${driver}`);
  // One storage per driver: buildah refuses a storage root created with another driver.
  const storageRoot = join(values['storage-root'], driver);
  const runRoot = join('/run', 'quizmesh-images', driver);
  if (values.cold) {
    say(`images: --cold: removing ${storageRoot} and buildah's cache mounts`);
    // Containers first (they may hold overlay mounts); deleting the images one by one with
    // `buildah rmi` is much slower than removing the storage directory.
    try {
      execFileSync(
        'buildah',
        ['--root', storageRoot, '--runroot', runRoot, '--storage-driver', driver, 'rm', '--all'],
        {
          stdio: 'ignore',
        },
      );
    } catch {
      // nothing stored yet
    }
    // containers/storage keeps <root>/overlay bind-mounted on itself; unmount it before removing.
    try {
      execFileSync('umount', [join(storageRoot, 'overlay')], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    rmSync(storageRoot, { recursive: true, force: true });
    rmSync(runRoot, { recursive: true, force: true });
    rmSync('/var/tmp/buildah-cache', { recursive: true, force: true });
  }
  const outDir = values.out;
  rmSync(join(outDir, 'logs'), { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const summary = await runImageCheck({
    repoRoot: REPO_ROOT,
    storageRoot,
    runRoot,
    storageDriver: driver,
    outDir,
    out: say,
    probeTimeoutSeconds: Number(values['probe-timeout']),
    adminDatabaseUrl: values['admin-database-url'],
  });
  const json = `${JSON.stringify({ ...summary, cold: values.cold, recordedAt: new Date().toISOString() }, null, 2)}\n`;
  writeFileSync(join(outDir, 'summary.json'), json);
  if (values.record) writeFileSync(join(REPO_ROOT, 'bench', 'results', 'images-check.json'), json);
  say('');
  say(
    `images: base ${summary.base.name} (STAND-IN, ${summary.base.cached ? 'cached' : 'assembled'}) ${summary.seconds.base.toFixed(1)} s`,
  );
  for (const image of summary.images)
    say(`images: ${image.image.padEnd(40)} ${image.seconds.toFixed(1).padStart(7)} s`);
  for (const service of summary.services) {
    say(
      `images: ${service.service.padEnd(13)} migration ${service.migration ? `${service.migration.seconds.toFixed(1)} s` : '-'}` +
        `  probes ${service.ok ? `2xx after ${service.secondsToReady?.toFixed(1)} s` : `FAILED: ${service.error}`}`,
    );
  }
  say(
    `images: builds ${summary.seconds.builds.toFixed(0)} s, migrations and services ${summary.seconds.run.toFixed(0)} s, ` +
      `total ${summary.seconds.total.toFixed(0)} s; summary in ${join(outDir, 'summary.json')}`,
  );
  if (!summary.ok) {
    console.error('images: FAILED (logs in ' + join(outDir, 'logs') + ')');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`images: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
