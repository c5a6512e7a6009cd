/**
 * Cross-checks of the EKS delivery path that no single file shows: the image names skaffold
 * pushes against the ECR repositories Terraform creates, and their tag mutability against
 * skaffold's tagging policy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { asArray, asRecord, asString, isRecord, pathGet, type JsonRecord } from './objects';
import { parseHcl } from './terraform';

/**
 * The image name `skaffold --default-repo <defaultRepo>` pushes for `image`, as skaffold v2.24.0
 * computes it (pkg/skaffold/docker/default_repo.go `replace`) for registries other than GCR and
 * Artifact Registry with the global `multi-level-repo` setting unset: the whole name is escaped
 * (`/ . _ : @` -> `_`) and appended, so `quizmesh/gateway` on ECR becomes `<registry>/quizmesh_gateway`.
 */
export function skaffoldDefaultRepoImage(defaultRepo: string, image: string): string {
  if (image.startsWith(defaultRepo)) return image;
  if (defaultRepo.includes('gcr.io') || defaultRepo.includes('-docker.pkg.dev'))
    throw new Error(`${defaultRepo}: multi-level registries are not modelled`);
  return `${defaultRepo}/${image.replace(/[/._:@]/g, '_')}`.slice(0, 255);
}

type Overrides = Map<string, string>;

async function hcl(path: string, overrides: Overrides): Promise<JsonRecord> {
  return parseHcl(path, overrides.get(path) ?? readFileSync(path, 'utf8'));
}

function first(value: unknown): JsonRecord {
  return asRecord(asArray(value)[0]);
}

/** `${var.x}` resolved against a module's variable defaults and the arguments passed to it. */
function resolve(value: unknown, scope: Record<string, unknown>): unknown {
  const reference = typeof value === 'string' ? /^\$\{var\.([A-Za-z0-9_]+)\}$/.exec(value) : null;
  if (reference === null) return value;
  const name = reference[1] ?? '';
  if (!(name in scope)) throw new Error(`var.${name} has no value to resolve`);
  return scope[name];
}

async function variableDefaults(dir: string, overrides: Overrides): Promise<Record<string, unknown>> {
  const defaults = await hcl(join(dir, 'variables.tf'), overrides);
  return Object.fromEntries(
    Object.entries(asRecord(defaults.variable)).map(([name, blocks]) => [name, first(blocks).default]),
  );
}

export interface EcrRepositories {
  /** Repository names (without the registry host). */
  names: string[];
  /** Tag mutability per environment directory name (dev, prod). */
  mutability: Record<string, string>;
}

/** The ECR repositories each environment creates, evaluated from the HCL (stack -> ecr module). */
export async function ecrRepositories(
  terraformDir: string,
  overrides: Overrides = new Map(),
): Promise<EcrRepositories> {
  const stackDir = join(terraformDir, 'modules', 'stack');
  const ecrDir = join(terraformDir, 'modules', 'ecr');
  const stackDefaults = await variableDefaults(stackDir, overrides);
  const call = first(asRecord((await hcl(join(stackDir, 'main.tf'), overrides)).module).ecr);
  const ecrScope = {
    ...(await variableDefaults(ecrDir, overrides)),
    ...Object.fromEntries(Object.entries(call).map(([key, value]) => [key, resolve(value, stackDefaults)])),
  };
  const repository = first(
    pathGet((await hcl(join(ecrDir, 'main.tf'), overrides)).resource, 'aws_ecr_repository.service'),
  );
  const template = asString(repository.name) ?? '';
  const prefix = String(resolve('${var.repository_prefix}', ecrScope));
  const services = asArray(resolve('${var.services}', ecrScope)).map(String);
  const names = services.map((service) =>
    template.replaceAll('${var.repository_prefix}', prefix).replaceAll('${each.value}', service),
  );
  const unresolved = names.find((name) => name.includes('${'));
  if (unresolved !== undefined) throw new Error(`ECR repository name ${template} not evaluated: ${unresolved}`);

  const mutability: Record<string, string> = {};
  for (const environment of ['dev', 'prod']) {
    const envCall = first(
      asRecord((await hcl(join(terraformDir, 'environments', environment, 'main.tf'), overrides)).module).quizmesh,
    );
    const passed = Object.fromEntries(
      Object.entries(call).map(([key, value]) => [key, resolve(value, { ...stackDefaults, ...envCall })]),
    );
    mutability[environment] = String(resolve(repository.image_tag_mutability, { ...ecrScope, ...passed }));
  }
  return { names, mutability };
}

export interface SkaffoldPush {
  profile: string;
  images: string[];
  /** The tagger skaffold uses (gitCommit when tagPolicy is absent). */
  tagger: string;
  /** Whether every image's Helm tag value carries the pushed digest (`tag@digest`). */
  pinsDigests: boolean;
}

/** Every skaffold profile that pushes images to a registry. */
export function skaffoldPushes(repoRoot: string, text?: string): SkaffoldPush[] {
  const config = asRecord(parse(text ?? readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8')));
  return asArray(config.profiles)
    .filter(isRecord)
    .filter((profile) => pathGet(profile, 'build.local.push') === true)
    .map((profile) => {
      const images = asArray(pathGet(profile, 'build.artifacts'))
        .map((artifact) => asString(pathGet(artifact, 'image')))
        .filter((image): image is string => image !== undefined);
      const tagValues = asArray(pathGet(profile, 'deploy.helm.releases'))
        .filter(isRecord)
        .flatMap((release) =>
          Object.entries(asRecord(release.setValueTemplates)).filter(([key]) => key.endsWith('.image.tag')),
        )
        .map(([, value]) => String(value));
      return {
        profile: asString(profile.name) ?? '?',
        images,
        tagger: Object.keys(asRecord(pathGet(profile, 'build.tagPolicy')))[0] ?? 'gitCommit',
        pinsDigests:
          tagValues.length > 0 && tagValues.every((value) => /\{\{\.IMAGE_DIGEST_[A-Za-z0-9_]+\}\}/.test(value)),
      };
    });
}

/**
 * Environments skaffold's `eks` profile deploys (docs/deploy-eks.md). Production takes only the
 * images CI pushed from main, tagged with the full commit SHA.
 */
export const SKAFFOLD_ENVIRONMENTS = ['dev'];

/** Problems between what skaffold pushes and what ECR accepts. */
export function checkEcrAgainstSkaffold(ecr: EcrRepositories, pushes: SkaffoldPush[]): string[] {
  const errors: string[] = [];
  const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  for (const push of pushes) {
    for (const image of push.images) {
      const pushed = skaffoldDefaultRepoImage(registry, image).slice(registry.length + 1);
      if (!ecr.names.includes(pushed))
        errors.push(
          `skaffold profile ${push.profile} pushes ${image} as <registry>/${pushed}, but Terraform creates ${ecr.names.join(', ')}`,
        );
    }
    // gitCommit and most other taggers reuse a tag for new content (`<commit>-dirty`, a rebuild).
    if (push.tagger !== 'inputDigest') {
      for (const environment of SKAFFOLD_ENVIRONMENTS) {
        if (ecr.mutability[environment] !== 'MUTABLE')
          errors.push(
            `skaffold profile ${push.profile} tags with ${push.tagger}, which re-pushes tags such as <commit>-dirty, but ECR in ${environment} is ${ecr.mutability[environment] ?? '?'}`,
          );
      }
      if (!push.pinsDigests)
        errors.push(
          `skaffold profile ${push.profile}: tags can be overwritten, so the chart must get tag@digest (IMAGE_DIGEST_*) or nodes keep the old image`,
        );
    }
  }
  return errors;
}

/**
 * A Terraform value as far as these checks need: a literal, `${var.x}`, `${!var.x}` or
 * `${var.x ? <literal> : <literal>}`, with `var.x` looked up in `scope`.
 */
function evaluate(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value !== 'string' || !value.startsWith('${')) return value;
  const body = value.slice(2, -1).trim();
  const lookup = (name: string): unknown => {
    if (!(name in scope)) throw new Error(`var.${name} has no value to evaluate ${value}`);
    return evaluate(scope[name], {});
  };
  const literal = (text: string): unknown => (/^\d+$/.test(text) ? Number(text) : text.replace(/^"|"$/g, ''));
  const conditional = /^var\.([A-Za-z0-9_]+) \? (\S+) : (\S+)$/.exec(body);
  if (conditional !== null)
    return literal((lookup(conditional[1] ?? '') === true ? conditional[2] : conditional[3]) ?? '');
  const negated = /^!var\.([A-Za-z0-9_]+)$/.exec(body);
  if (negated !== null) return lookup(negated[1] ?? '') !== true;
  const variable = /^var\.([A-Za-z0-9_]+)$/.exec(body);
  if (variable !== null) return lookup(variable[1] ?? '');
  throw new Error(`cannot evaluate ${value}`);
}

/** `recovery_window_in_days` of every Secrets Manager secret an environment creates, by module/resource. */
export async function secretRecoveryWindows(
  terraformDir: string,
  environment: string,
  overrides: Overrides = new Map(),
): Promise<Record<string, unknown>> {
  const stackDir = join(terraformDir, 'modules', 'stack');
  const envCall = first(
    asRecord((await hcl(join(terraformDir, 'environments', environment, 'main.tf'), overrides)).module).quizmesh,
  );
  const stackScope = { ...(await variableDefaults(stackDir, overrides)), ...envCall };
  const windows: Record<string, unknown> = {};
  for (const [call, blocks] of Object.entries(asRecord((await hcl(join(stackDir, 'main.tf'), overrides)).module))) {
    const args = first(blocks);
    const source = asString(args.source) ?? '';
    if (!source.startsWith('../')) continue;
    const childDir = join(stackDir, source);
    const childMain = await hcl(join(childDir, 'main.tf'), overrides);
    const secrets = asRecord(pathGet(childMain.resource, 'aws_secretsmanager_secret'));
    if (Object.keys(secrets).length === 0) continue;
    const scope = {
      ...(await variableDefaults(childDir, overrides)),
      ...Object.fromEntries(
        Object.entries(args).map(([key, value]) => {
          try {
            return [key, evaluate(value, stackScope)];
          } catch {
            return [key, value]; // module outputs and locals: not needed for the window
          }
        }),
      ),
    };
    for (const [name, resource] of Object.entries(secrets))
      windows[`${call}/${name}`] = evaluate(first(resource).recovery_window_in_days ?? 30, scope);
  }
  return windows;
}
