import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../src/helm';
import { asArray, asRecord, asString, pathGet } from '../src/objects';
import { ecrRepositories } from '../src/eks';

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const workflows = readdirSync(WORKFLOWS)
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => {
    const text = readFileSync(join(WORKFLOWS, file), 'utf8');
    return { file, text, doc: asRecord(parse(text)) };
  });

/**
 * Commit of each release tag used, resolved from the action repositories (git rev-parse
 * refs/tags/<tag>^{commit}); a bump changes both, so a SHA cannot drift from its comment.
 */
const ACTION_SHAS: Record<string, string> = {
  'actions/checkout@v4.2.2': '11bd71901bbe5b1630ceea73d27597364c9af683',
  'actions/setup-node@v4.4.0': '49933ea5288caeca8642d1e84afbd3f7d6820020',
  'dorny/paths-filter@v3.0.2': 'de90cc6fb38fc0963ad72b210f1f284cd68cea36',
  'azure/setup-helm@v4.3.1': '1a275c3b69536ee54be43f2070a358922e12c8d4',
  'hashicorp/setup-terraform@v3.1.2': 'b9cd54a3c349d3f38e8881555d616ced269862dd',
  'docker/setup-qemu-action@v3.6.0': '29109295f81e9208d7d86ff1c6c12d2833863392',
  'docker/setup-buildx-action@v3.11.1': 'e468171a9de216ec08956ac3ada2f0791b6bd435',
  'docker/build-push-action@v6.18.0': '263435318d21b8e681c14492fe198d362a7d2c83',
  'aws-actions/configure-aws-credentials@v4.3.1': '7474bc4690e29a8392af63c5b98e7449536d5c3a',
  'aws-actions/amazon-ecr-login@v2.0.1': '062b18b96a7aff071d4dc91bc00c4c1a7945b076',
  'helm/kind-action@v1.12.0': 'a1b0e391336a6ee6713a0583f8c6240d70863de3',
};

function jobs(doc: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(asRecord(doc.jobs)).map(([name, job]) => [name, asRecord(job)]);
}

describe('.github/workflows', () => {
  it('pins every action by commit SHA (release tag in a comment) and every service image to an exact tag', () => {
    const loose: string[] = [];
    for (const { file, text, doc } of workflows) {
      // The parsed YAML drops comments, so the `# vX.Y.Z` next to each SHA is read from the text.
      for (const [, action = '', sha = '', tag] of text.matchAll(/uses: ([^@\s]+)@(\S+)(?: # (v\d+\.\d+\.\d+))?/g)) {
        if (!/^[0-9a-f]{40}$/.test(sha) || tag === undefined) loose.push(`${file}: ${action}@${sha}`);
        else if (ACTION_SHAS[`${action}@${tag}`] !== sha)
          loose.push(`${file}: ${action}@${sha} is not the commit of ${tag} (ACTION_SHAS)`);
      }
      for (const [name, job] of jobs(doc)) {
        for (const [service, container] of Object.entries(asRecord(job.services))) {
          const image = asString(pathGet(container, 'image')) ?? '';
          if (!/:\d+(\.\d+){1,2}(-[a-z0-9]+)?$/.test(image))
            loose.push(`${file} ${name}: service ${service} image ${image}`);
        }
      }
    }
    expect(loose).toEqual([]);
  });

  it('tests against PostgreSQL, Redis and RabbitMQ and pushes images only through OIDC', () => {
    const ci = workflows.find(({ file }) => file === 'ci.yml')?.doc ?? {};
    expect(Object.keys(asRecord(pathGet(ci, 'jobs.test.services'))).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
    expect(pathGet(ci, 'permissions')).toEqual({ contents: 'read' });
    expect(pathGet(ci, 'jobs.images.permissions.id-token')).toBe('write');
    expect(JSON.stringify(ci)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/i);
  });

  it('pushes each image to the ECR repository Terraform creates for it, tagged with the full commit SHA', async () => {
    const ci = workflows.find(({ file }) => file === 'ci.yml')?.doc ?? {};
    const push = asArray(pathGet(ci, 'jobs.images.steps'))
      .map((step) => asString(pathGet(step, 'with.tags')) ?? '')
      .find((tags) => tags.includes('steps.ecr.outputs.registry'));
    // format('{0}/<repository with {1} = service>:{2}', registry, matrix.service, github.sha)
    const [, repository = '', args = ''] = /format\('\{0\}\/([^:']+):\{2\}', ([^)]+)\)/.exec(push ?? '') ?? [];
    expect(args.split(',').map((arg) => arg.trim())).toEqual([
      'steps.ecr.outputs.registry',
      'matrix.service',
      'github.sha',
    ]);
    const { names } = await ecrRepositories(join(REPO_ROOT, 'terraform'));
    const services = asArray(pathGet(ci, 'jobs.images.strategy.matrix.service')).map(String);
    expect(services.length).toBeGreaterThan(0);
    for (const service of services) expect(names).toContain(repository.replace('{1}', service));
  });
});

describe('.github/workflows/ci.yml images', () => {
  const ci = workflows.find(({ file }) => file === 'ci.yml')?.doc ?? {};
  const steps = asArray(pathGet(ci, 'jobs.images.steps'));
  const uses = steps.map((step) => (asString(pathGet(step, 'uses')) ?? '').split('@')[0]);

  it('builds every image for amd64 and arm64 with buildx under QEMU', () => {
    const build = steps.find((step) => (asString(pathGet(step, 'uses')) ?? '').startsWith('docker/build-push-action@'));
    expect((asString(pathGet(build, 'with.platforms')) ?? '').split(',').sort()).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    expect(uses.indexOf('docker/setup-qemu-action')).toBeGreaterThanOrEqual(0);
    expect(uses.indexOf('docker/setup-qemu-action')).toBeLessThan(uses.indexOf('docker/build-push-action'));
    expect(uses.indexOf('docker/setup-buildx-action')).toBeLessThan(uses.indexOf('docker/build-push-action'));
  });
});

describe('.github/workflows/kind.yml (the real-cluster check for forks)', () => {
  const kind = workflows.find(({ file }) => file === 'kind.yml');
  const steps = asArray(pathGet(kind?.doc, 'jobs.smoke.steps'));
  const runs = steps.map((step) => asString(pathGet(step, 'run')) ?? '');

  it('runs in a fork: no secrets, read-only token, on pull requests and by hand', () => {
    expect(kind).toBeDefined();
    expect(kind?.text).not.toMatch(/secrets\.|id-token/);
    expect(pathGet(kind?.doc, 'permissions')).toEqual({ contents: 'read' });
    expect(Object.keys(asRecord(pathGet(kind?.doc, 'on')))).toEqual(
      expect.arrayContaining(['pull_request', 'workflow_dispatch']),
    );
  });

  it('creates a pinned kind cluster, then runs the install script and the smoke test that also run by hand', () => {
    expect(String(pathGet(kind?.doc, 'env.KIND_VERSION'))).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(String(pathGet(kind?.doc, 'env.KIND_NODE_IMAGE'))).toMatch(/^kindest\/node:v[\d.]+@sha256:[0-9a-f]{64}$/);
    const kindAction = steps.find((step) => (asString(pathGet(step, 'uses')) ?? '').startsWith('helm/kind-action@'));
    expect(pathGet(kindAction, 'with.node_image')).toBe('${{ env.KIND_NODE_IMAGE }}');
    expect(runs.filter((run) => run.startsWith('bash '))).toEqual([
      'bash docs/kind-install.sh quizmesh',
      'bash docs/cluster-smoke.sh',
      'bash docs/operator-smoke.sh',
    ]);
    for (const script of ['docs/kind-install.sh', 'docs/cluster-smoke.sh'])
      expect(() => execFileSync('bash', ['-n', join(REPO_ROOT, script)])).not.toThrow();
  });

  it('installs the Dapr version the chart pins, read from Chart.yaml, and the chart with its development backends', () => {
    const install = readFileSync(join(REPO_ROOT, 'docs', 'kind-install.sh'), 'utf8');
    const extract = /^DAPR_VERSION=\$\((.+)\)$/m.exec(install)?.[1] ?? 'false';
    const version = execFileSync('bash', ['-c', extract], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const annotation = /quizmesh\.io\/dapr-version: '?([\d.]+)/.exec(
      readFileSync(join(REPO_ROOT, 'charts', 'quizmesh', 'Chart.yaml'), 'utf8'),
    )?.[1];
    expect(version).toBe(annotation);
    expect(install).toContain('--version "$DAPR_VERSION"');
    expect(install).toMatch(/helm upgrade --install quizmesh charts\/quizmesh/);
    expect(install).not.toMatch(/backing\.\w+\.enabled=false/);
  });

  it('smoke-tests register, publish, attempt and the leaderboard over SSE through the gateway', () => {
    const smoke = readFileSync(join(REPO_ROOT, 'docs', 'cluster-smoke.sh'), 'utf8');
    for (const path of [
      '/api/v1/auth/register',
      '/api/v1/quizzes/$QUIZ/publish',
      '/api/v1/quizzes/$QUIZ/attempts',
      '/api/v1/attempts/$ATTEMPT/submit',
      '/api/v1/stream',
    ])
      expect(smoke).toContain(path);
    expect(smoke).toMatch(/event: leaderboard/);
    expect(smoke).toContain('svc/quizmesh-gateway');
  });
});
