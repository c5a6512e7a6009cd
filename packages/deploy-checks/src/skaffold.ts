import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SCHEMAS_DIR } from './dapr-schema';
import { createAjv, validateWith } from './json-schema';
import { asArray, asRecord, asString, isRecord, pathGet, type JsonRecord } from './objects';

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Checks of skaffold.yaml beyond its schema, each message naming the profile/artifact/release. */
export interface SkaffoldReport {
  schemaErrors: string[];
  referenceErrors: string[];
}

interface Section {
  where: string;
  build?: JsonRecord;
  deploy?: JsonRecord;
  patches: unknown[];
}

function sections(config: JsonRecord): Section[] {
  const base: Section = { where: 'skaffold.yaml', patches: [] };
  if (isRecord(config.build)) base.build = config.build;
  if (isRecord(config.deploy)) base.deploy = config.deploy;
  return [
    base,
    ...asArray(config.profiles)
      .filter(isRecord)
      .map((profile) => {
        const section: Section = {
          where: `profile ${asString(profile.name) ?? '?'}`,
          patches: asArray(profile.patches),
        };
        if (isRecord(profile.build)) section.build = profile.build;
        if (isRecord(profile.deploy)) section.deploy = profile.deploy;
        return section;
      }),
  ];
}

/** The image names an artifact list builds, with reference errors for Dockerfiles and services. */
function checkArtifacts(section: Section, repoRoot: string, chartServices: string[], errors: string[]): string[] {
  const images: string[] = [];
  for (const artifact of asArray(section.build?.artifacts).filter(isRecord)) {
    const image = asString(artifact.image) ?? '?';
    images.push(image);
    const context = join(repoRoot, asString(artifact.context) ?? '.');
    const dockerfile = asString(pathGet(artifact, 'docker.dockerfile')) ?? 'Dockerfile';
    if (!existsSync(join(context, dockerfile)))
      errors.push(`${section.where}: artifact ${image}: Dockerfile ${dockerfile} does not exist`);
    const service = asString(pathGet(artifact, 'docker.buildArgs.SERVICE'));
    if (service !== undefined && !chartServices.includes(service)) {
      errors.push(
        `${section.where}: artifact ${image}: build arg SERVICE=${service} is not a service of charts/quizmesh/values.yaml`,
      );
    }
  }
  return images;
}

function checkReleases(section: Section, repoRoot: string, images: string[], errors: string[]): void {
  for (const release of asArray(pathGet(section.deploy, 'helm.releases')).filter(isRecord)) {
    const name = `${section.where}: release ${asString(release.name) ?? '?'}`;
    const chartPath = asString(release.chartPath);
    if (chartPath !== undefined && !existsSync(join(repoRoot, chartPath, 'Chart.yaml')))
      errors.push(`${name}: chartPath ${chartPath} has no Chart.yaml`);
    if (asString(release.remoteChart) !== undefined && !EXACT_VERSION.test(asString(release.version) ?? '')) {
      errors.push(
        `${name}: remote chart ${String(release.remoteChart)} is not pinned to an exact version (${String(release.version)})`,
      );
    }
    for (const file of asArray(release.valuesFiles).map(String)) {
      if (!existsSync(join(repoRoot, file)) && !generatedValuesFile(repoRoot, file))
        errors.push(`${name}: values file ${file} does not exist`);
    }
    // Every image built must reach the chart, or the release would run stale images.
    const templates = Object.values(asRecord(release.setValueTemplates)).map(String).join(' ');
    if (chartPath !== undefined) {
      for (const image of images) {
        const key = image.replace(/[/.-]/g, '_');
        if (!templates.includes(`{{.IMAGE_REPO_${key}}}`) || !templates.includes(`{{.IMAGE_TAG_${key}}}`)) {
          errors.push(
            `${name}: image ${image} is built but not passed to the chart (setValueTemplates IMAGE_REPO_/IMAGE_TAG_${key})`,
          );
        }
      }
    }
  }
}

/** A values file written from Terraform outputs: absent in git, listed in the chart's .gitignore. */
function generatedValuesFile(repoRoot: string, file: string): boolean {
  const parts = file.split('/');
  const base = parts.pop() ?? '';
  const ignore = join(repoRoot, ...parts, '.gitignore');
  return existsSync(ignore) && readFileSync(ignore, 'utf8').split('\n').includes(base);
}

export function checkSkaffold(
  repoRoot: string,
  text = readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'),
): SkaffoldReport {
  const config: unknown = parse(text);
  const apiVersion = asString(pathGet(config, 'apiVersion')) ?? '';
  const schemaPath = join(SCHEMAS_DIR, 'skaffold', `${apiVersion.replace('skaffold/', '')}.json`);
  const schemaErrors = existsSync(schemaPath)
    ? validateWith(createAjv().compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object), config)
    : [`no schema for apiVersion ${apiVersion} in ${join(SCHEMAS_DIR, 'skaffold')}`];
  const referenceErrors: string[] = [];
  const chartServices = Object.keys(
    asRecord(pathGet(parse(readFileSync(join(repoRoot, 'charts', 'quizmesh', 'values.yaml'), 'utf8')), 'services')),
  );
  const [base, ...profiles] = sections(asRecord(config));
  const baseImages = base === undefined ? [] : checkArtifacts(base, repoRoot, chartServices, referenceErrors);
  for (const section of [...(base === undefined ? [] : [base]), ...profiles]) {
    const images =
      section === base || section.build === undefined
        ? baseImages
        : checkArtifacts(section, repoRoot, chartServices, referenceErrors);
    checkReleases(section, repoRoot, images, referenceErrors);
    for (const patch of section.patches.filter(isRecord)) {
      const path = asString(patch.path) ?? '';
      if (/\/\d+(\/|$)/.test(path))
        referenceErrors.push(
          `${section.where}: patch ${path} addresses an array by index; replace the section instead`,
        );
    }
  }
  return { schemaErrors, referenceErrors };
}

/** Images built by the default (non-profile) build section. */
export function skaffoldImages(repoRoot: string): string[] {
  const config: unknown = parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'));
  return asArray(pathGet(config, 'build.artifacts'))
    .map((artifact) => asString(pathGet(artifact, 'image')))
    .filter((image): image is string => image !== undefined);
}

/** Service names port-forwarded by skaffold (default section and profiles). */
export function skaffoldPortForwards(repoRoot: string): string[] {
  const config: unknown = parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8'));
  const lists = [
    asArray(pathGet(config, 'portForward')),
    ...asArray(pathGet(config, 'profiles')).map((profile) => asArray(pathGet(profile, 'portForward'))),
  ];
  return [...new Set(lists.flat().map((entry) => asString(pathGet(entry, 'resourceName')) ?? '?'))].sort();
}
