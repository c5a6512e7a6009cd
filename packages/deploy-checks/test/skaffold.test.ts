import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, renderChart } from '../src/helm';
import { parse } from 'yaml';
import { asArray, pathGet } from '../src/objects';
import { checkSkaffold, skaffoldImages, skaffoldPortForwards } from '../src/skaffold';

const skaffoldText = readFileSync(join(REPO_ROOT, 'skaffold.yaml'), 'utf8');

describe('skaffold.yaml', () => {
  it('validates against the skaffold/v4beta14 schema and references only existing Dockerfiles, charts and values files', () => {
    expect(checkSkaffold(REPO_ROOT)).toEqual({ schemaErrors: [], referenceErrors: [] });
  });

  it('builds an image for every service enabled by default and port-forwards only rendered Services', async () => {
    const objects = await renderChart();
    const appIds = objects
      .filter(
        (object) =>
          object.kind === 'Deployment' && object.metadata.labels?.['app.kubernetes.io/component'] === 'service',
      )
      .map((object) => object.metadata.labels?.['app.kubernetes.io/name'])
      .sort();
    expect(
      skaffoldImages(REPO_ROOT)
        .map((image) => image.replace('quizmesh/', ''))
        .sort(),
    ).toEqual(appIds);
    const services = objects.filter((object) => object.kind === 'Service').map((object) => object.metadata.name);
    expect(skaffoldPortForwards(REPO_ROOT).filter((name) => !services.includes(name))).toEqual([]);
  });

  it('installs the Dapr control plane first, pinned to one version and waited for, in every deploy section', () => {
    const config: unknown = parse(skaffoldText);
    const sections = [config, ...asArray(pathGet(config, 'profiles'))].filter(
      (section) => pathGet(section, 'deploy.helm') !== undefined,
    );
    expect(sections).toHaveLength(2);
    for (const section of sections) {
      const releases = asArray(pathGet(section, 'deploy.helm.releases'));
      expect(releases.map((release) => pathGet(release, 'name'))).toEqual(['dapr', 'quizmesh']);
      expect(pathGet(releases[0], 'wait')).toBe(true);
      expect(pathGet(releases[0], 'version')).toBe(
        pathGet(asArray(pathGet(config, 'deploy.helm.releases'))[0], 'version'),
      );
    }
  });

  it('reports a schema violation, a missing Dockerfile, an unpinned chart and an index patch', () => {
    const broken = skaffoldText
      .replace('statusCheckDeadlineSeconds: 600', 'statusCheckDeadlineSeconds: soon')
      .replace(
        'dockerfile: services/Dockerfile, target: runtime, buildArgs: { SERVICE: quiz }',
        'dockerfile: services/quiz/Dockerfile, buildArgs: { SERVICE: quizz }',
      )
      .replace('version: 1.16.2', 'version: ">=1.16"')
      .replace(
        '  - name: eks\n',
        '  - name: eks\n    patches: [{ op: replace, path: /build/artifacts/0/image, value: x }]\n',
      );
    const report = checkSkaffold(REPO_ROOT, broken);
    expect(report.schemaErrors).toEqual(
      expect.arrayContaining(['/deploy/statusCheckDeadlineSeconds should be integer']),
    );
    expect(report.referenceErrors).toEqual(
      expect.arrayContaining([
        'skaffold.yaml: artifact quizmesh/quiz: Dockerfile services/quiz/Dockerfile does not exist',
        'skaffold.yaml: artifact quizmesh/quiz: build arg SERVICE=quizz is not a service of charts/quizmesh/values.yaml',
        'skaffold.yaml: release dapr: remote chart dapr is not pinned to an exact version (>=1.16)',
        'profile eks: patch /build/artifacts/0/image addresses an array by index; replace the section instead',
      ]),
    );
  });
});

describe('services/Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8');

  it('pins its base image by exact tag and runs as a non-root numeric user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=docker\.io\/library\/node:\d+\.\d+\.\d+-bookworm-slim$/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toContain('CMD ["node", "--enable-source-maps", "/app/main.js"]');
  });

  it('installs only the workspace being built, production dependencies only in the runtime', () => {
    expect(dockerfile).toContain(
      'npm ci --omit=dev --ignore-scripts --workspace "services/${SERVICE}" --include-workspace-root=false',
    );
    expect(dockerfile).toContain('PRISMA_SCHEMA_ENGINE_BINARY=');
  });
});

describe('tilt/Tiltfile', () => {
  const tiltfile = readFileSync(join(REPO_ROOT, 'tilt', 'Tiltfile'), 'utf8');

  it('installs the Dapr control plane before the app (its version: dapr-version.test.ts)', () => {
    expect(tiltfile).toContain("k8s_resource('quizmesh', resource_deps=['dapr-control-plane']");
  });

  it("builds the same services as skaffold, from the Dockerfile's dev stage", () => {
    const services = /^SERVICES = \[([^\]]+)\]$/m
      .exec(tiltfile)?.[1]
      ?.split(',')
      .map((name) => name.trim().replace(/'/g, ''));
    expect(services?.map((name) => `quizmesh/${name}`).sort()).toEqual(skaffoldImages(REPO_ROOT).sort());
    expect(readFileSync(join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8')).toMatch(/^FROM base AS dev$/m);
    expect(tiltfile).toContain("target='dev'");
  });
});
