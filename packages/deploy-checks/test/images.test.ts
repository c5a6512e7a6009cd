import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderChart, REPO_ROOT } from '../src/helm';
import type { KubeObject } from '../src/objects';
import {
  bundledNpmVersion,
  checkWebApp,
  deployableServices,
  containerEnv,
  dockerfileBaseImage,
  mapClusterHosts,
  probePath,
  type RenderedContainer,
} from '../src/images';

// The helpers `npm run images:check` uses to turn the rendered chart into `buildah run` arguments;
// the check itself needs root and buildah and runs in .ci/run after npm test.

describe('images:check helpers', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await renderChart();
  });

  const app = (name: string): RenderedContainer => {
    const deployment = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata?.name === `quizmesh-${name}`,
    ) as unknown as {
      spec: { template: { spec: { containers: RenderedContainer[] } } };
    };
    return deployment.spec.template.spec.containers.find((c) => c.name === 'app') as RenderedContainer;
  };

  it("reads the Dockerfile's exact base image and its Node version", () => {
    const base = dockerfileBaseImage(readFileSync(join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8'));
    expect(base.name).toMatch(/^docker\.io\/library\/node:24\.\d+\.\d+-bookworm-slim$/);
    expect(base.nodeVersion).toMatch(/^24\.\d+\.\d+$/);
    expect(base.debianSuite).toBe('bookworm');
    expect(() => dockerfileBaseImage('ARG NODE_IMAGE=node:24-slim\n')).toThrow(/is not docker\.io\/library\/node/);
  });

  it("takes npm's version from the first upgrade line of Node's changelog", () => {
    const changelog =
      '## 2026-11-11, Version 24.22.3\n* deps: upgrade npm to 11.19.1\n* deps: upgrade npm to 11.19.0\n';
    expect(bundledNpmVersion(changelog)).toBe('11.19.1');
  });

  it('resolves env values and secretKeyRefs as the kubelet does', () => {
    const env = containerEnv(app('quiz'), objects);
    expect(env.PORT).toBe('3002');
    expect(env.NODE_ENV).toBe('production');
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\/quiz:[^@]+@quizmesh-postgres:5432\/quiz$/);
    expect(containerEnv(app('gateway'), objects).REDIS_URL).toMatch(/^redis:\/\/:[^@]+@quizmesh-redis:6379$/);
  });

  it('maps in-cluster host names, in every spelling, to 127.0.0.1 and leaves other hosts alone', () => {
    const services = ['quizmesh-postgres', 'quizmesh-redis', 'quizmesh-jaeger'];
    const map = (value: string) => mapClusterHosts(value, services, 'quizmesh');
    expect(map('postgresql://quiz:pw@quizmesh-postgres:5432/quiz')).toBe('postgresql://quiz:pw@127.0.0.1:5432/quiz');
    expect(map('redis://:pw@quizmesh-redis.quizmesh.svc.cluster.local:6379')).toBe('redis://:pw@127.0.0.1:6379');
    expect(map('http://quizmesh-jaeger.quizmesh:4318')).toBe('http://127.0.0.1:4318');
    expect(map('quizmesh-redis:6379')).toBe('127.0.0.1:6379');
    expect(map('postgresql://quiz@quizmesh-postgres-replica:5432/quiz')).toBe(
      'postgresql://quiz@quizmesh-postgres-replica:5432/quiz',
    );
    expect(map('production')).toBe('production');
  });

  it('reads the rendered probe paths', () => {
    expect(probePath(app('identity'), 'livenessProbe')).toBe('/healthz');
    expect(probePath(app('identity'), 'readinessProbe')).toBe('/readyz');
  });
});

describe('images:check: the gateway image serves the web app', () => {
  const page = '<!doctype html><script type="module" crossorigin src="/assets/index-Ab12.js"></script>';
  async function serve(routes: Record<string, { type: string; body: string; csp?: string }>): Promise<Server> {
    const server = createServer((req, res) => {
      const route = routes[req.url ?? ''];
      if (!route) return void res.writeHead(404).end();
      res.writeHead(200, {
        'content-type': route.type,
        ...(route.csp ? { 'content-security-policy': route.csp } : {}),
      });
      res.end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
  const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const csp = "default-src 'self'; script-src 'self'";

  it('accepts the page under the strict CSP and its script', async () => {
    const server = await serve({
      '/': { type: 'text/html; charset=utf-8', body: page, csp },
      '/assets/index-Ab12.js': { type: 'text/javascript', body: 'export {}' },
    });
    try {
      await expect(checkWebApp(url(server))).resolves.toEqual({
        indexStatus: 200,
        script: '/assets/index-Ab12.js',
        scriptStatus: 200,
      });
    } finally {
      server.close();
    }
  });

  it.each([
    ['no app at /', {}],
    ['a page without the CSP', { '/': { type: 'text/html', body: page } }],
    ['a page whose script is missing', { '/': { type: 'text/html', body: page, csp } }],
  ])('refuses %s', async (_what, routes) => {
    const server = await serve(routes);
    try {
      await expect(checkWebApp(url(server))).rejects.toThrow(/does not serve/);
    } finally {
      server.close();
    }
  });
});

describe('images:check: every deployable service is compiled for its image', () => {
  it('tsconfig.build.json references each service that gets an image (its dist/main.js is the entry point)', () => {
    const build = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      references: Array<{ path: string }>;
    };
    const referenced = build.references.map((r) => r.path);
    const services = deployableServices(REPO_ROOT);
    expect(services).toEqual(expect.arrayContaining(['gateway', 'operator', 'quiz']));
    expect(services.filter((s) => !referenced.includes(`services/${s}/tsconfig.build.json`))).toEqual([]);
  });
});
