import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../src/helm';
import { asArray, asRecord, asString, isRecord, pathGet } from '../src/objects';
import { ecrRepositories } from '../src/eks';

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const workflows = readdirSync(WORKFLOWS)
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => ({ file, doc: asRecord(parse(readFileSync(join(WORKFLOWS, file), 'utf8'))) }));

function jobs(doc: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(asRecord(doc.jobs)).map(([name, job]) => [name, asRecord(job)]);
}

describe('.github/workflows', () => {
  it('pins every action to an exact release tag and every service image to an exact tag', () => {
    const loose: string[] = [];
    for (const { file, doc } of workflows) {
      for (const [name, job] of jobs(doc)) {
        for (const step of asArray(job.steps).filter(isRecord)) {
          const uses = asString(step.uses);
          if (uses !== undefined && !/@v\d+\.\d+\.\d+$/.test(uses)) loose.push(`${file} ${name}: ${uses}`);
        }
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
