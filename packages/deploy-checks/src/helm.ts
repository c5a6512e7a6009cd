import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import { ensureTools } from './tools';
import { parseManifests, type KubeObject } from './objects';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const CHART_DIR = resolve(REPO_ROOT, 'charts', 'quizmesh');

export interface RenderOptions {
  /** Values files, relative to the chart directory or absolute. */
  valuesFiles?: string[];
  /** `--set-json` overrides: path -> JSON value (e.g. { 'serviceDefaults.resources': {...} }). */
  setJson?: Record<string, unknown>;
  releaseName?: string;
  namespace?: string;
  chartDir?: string;
  /** Render even when values.schema.json rejects the values (to prove the policy checks catch it too). */
  skipSchemaValidation?: boolean;
}

function helmArgs(options: RenderOptions): string[] {
  const args: string[] = [];
  for (const file of options.valuesFiles ?? []) args.push('--values', resolve(options.chartDir ?? CHART_DIR, file));
  for (const [path, value] of Object.entries(options.setJson ?? {}))
    args.push('--set-json', `${path}=${JSON.stringify(value)}`);
  if (options.skipSchemaValidation === true) args.push('--skip-schema-validation');
  return args;
}

/** Output of a failed helm run, as one message (helm reports template and schema errors on stderr). */
export class HelmError extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(`${command} failed:\n${output}`);
  }
}

async function helm(args: string[]): Promise<string> {
  const { helm: helmBinary } = await ensureTools();
  try {
    const { stdout } = await run(helmBinary, args, {
      maxBuffer: 64 * 1024 * 1024,
      // Keep helm away from the user's repositories, plugins and caches.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        HELM_CACHE_HOME: '/tmp/quizmesh-helm-cache',
        HELM_CONFIG_HOME: '/tmp/quizmesh-helm-config',
        HELM_DATA_HOME: '/tmp/quizmesh-helm-data',
      },
    });
    return stdout;
  } catch (error: unknown) {
    const detail = error instanceof Error && 'stderr' in error ? String(error.stderr) : String(error);
    throw new HelmError(`helm ${args[0] ?? ''}`, detail);
  }
}

/** `helm template` of the chart; returns every rendered object (hooks included). */
export async function renderChart(options: RenderOptions = {}): Promise<KubeObject[]> {
  const args = [
    'template',
    options.releaseName ?? 'quizmesh',
    options.chartDir ?? CHART_DIR,
    '--namespace',
    options.namespace ?? 'quizmesh',
    ...helmArgs(options),
  ];
  return parseManifests(await helm(args), `helm template ${(options.valuesFiles ?? []).join(' ')}`);
}

/** `helm lint --strict`; resolves with helm's report, rejects with HelmError on lint errors. */
export async function lintChart(options: RenderOptions = {}): Promise<string> {
  return helm(['lint', '--strict', options.chartDir ?? CHART_DIR, ...helmArgs(options)]);
}
