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

  it('port-forwards the gateway and every browsable tool on minikube: Jaeger, Mailpit, Grafana, Prometheus', () => {
    const forwards = asArray(pathGet(parse(skaffoldText), 'portForward')).map(
      (forward) => `${String(pathGet(forward, 'resourceName'))} ${String(pathGet(forward, 'port'))}`,
    );
    expect(forwards).toEqual([
      'quizmesh-gateway 8080',
      'quizmesh-jaeger 16686',
      'quizmesh-mailpit 8025',
      'quizmesh-grafana 3000',
      'quizmesh-prometheus 9090',
    ]);
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
  /** The lines of one stage, from its FROM to the next FROM. */
  const stage = (name: string): string => {
    const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
    if (start < 0) return '';
    const next = dockerfile.slice(start + 1).search(/^FROM /m);
    return next < 0 ? dockerfile.slice(start) : dockerfile.slice(start, start + 1 + next);
  };

  it('pins its base image by exact tag and runs as a non-root numeric user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=docker\.io\/library\/node:\d+\.\d+\.\d+-bookworm-slim$/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toContain('CMD ["node", "--enable-source-maps", "/app/main.js"]');
  });

  it('installs production dependencies of the service being built only in the runtime', () => {
    expect(dockerfile).toContain(
      'npm ci --omit=dev --ignore-scripts --prefer-offline --workspace "services/${SERVICE}" --include-workspace-root=false',
    );
    expect(dockerfile).toContain('PRISMA_SCHEMA_ENGINE_BINARY=');
  });

  it('runs Node 24 (active LTS), not an end-of-life line', () => {
    const major = Number(/^ARG NODE_IMAGE=docker\.io\/library\/node:(\d+)\./m.exec(dockerfile)?.[1]);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(major % 2).toBe(0);
  });

  it("keeps the workspaces' bin/ folders in the manifests stage, so npm links quizmesh-prisma-generate and quizmesh-migrate", () => {
    expect(stage('manifests')).toMatch(/! -name package\.json ! -name bin /);
  });

  it('puts /app/node_modules/.bin on PATH in the runtime and dev images (the migration Job runs quizmesh-migrate)', () => {
    for (const name of ['runtime', 'dev'])
      expect(stage(name)).toMatch(/^ENV .*PATH=\/app\/node_modules\/\.bin:\$\{PATH\}/m);
  });

  it('shares the expensive stages between services: npm ci and tsc take no SERVICE argument', () => {
    for (const name of ['manifests', 'deps', 'build']) expect(stage(name)).not.toMatch(/SERVICE\b/);
    expect(stage('deps')).toMatch(/npm ci --ignore-scripts$/m);
    expect(stage('build')).toContain('npm run build');
  });

  it('ships the RDS CA bundle that DATABASE_URL names with sslrootcert on EKS', () => {
    expect(stage('runtime')).toContain('COPY --from=build /out/certs ./certs');
    expect(stage('build')).toContain('quizmesh-rds-ca.cjs /out/certs/rds-ca-bundle.pem');
  });
});

describe('tilt/Tiltfile', () => {
  const tiltfile = readFileSync(join(REPO_ROOT, 'tilt', 'Tiltfile'), 'utf8');

  it("port-forwards the same Services and ports as skaffold's default section", () => {
    const tilt = [...tiltfile.matchAll(/\('(quizmesh-[a-z-]+)', (\d+)\)/g)].map((match) => `${match[1]} ${match[2]}`);
    const skaffold = asArray(pathGet(parse(skaffoldText), 'portForward')).map(
      (forward) => `${String(pathGet(forward, 'resourceName'))} ${String(pathGet(forward, 'port'))}`,
    );
    expect(tilt).toEqual(skaffold);
  });

  it('installs the Dapr control plane before the app (its version: dapr-version.test.ts)', () => {
    expect(tiltfile).toContain("k8s_resource('quizmesh', resource_deps=['dapr-control-plane']");
  });

  it("builds the same services as skaffold, from the Dockerfile's dev stage", () => {
    const services = /^SERVICES = \[([^\]]+)\]$/m
      .exec(tiltfile)?.[1]
      ?.split(',')
      .map((name) => name.trim().replace(/'/g, ''));
    expect(services?.map((name) => `quizmesh/${name}`).sort()).toEqual(skaffoldImages(REPO_ROOT).sort());
    expect(readFileSync(join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8')).toMatch(/^FROM \w+ AS dev$/m);
    expect(tiltfile).toContain("target='dev'");
  });
});
