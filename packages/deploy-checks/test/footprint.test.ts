import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, renderChart } from '../src/helm';
import {
  computeFootprint,
  footprintBlock,
  footprintTable,
  parseCpu,
  parseMemory,
  type Footprint,
} from '../src/footprint';

let footprint: Footprint;

beforeAll(async () => {
  footprint = computeFootprint(await renderChart());
});

describe('footprint of a default install', () => {
  it('parses Kubernetes quantities', () => {
    expect([parseCpu('50m'), parseCpu('1'), parseCpu('0.5')]).toEqual([50, 1000, 500]);
    expect([parseMemory('96Mi'), parseMemory('1Gi'), parseMemory('512M'), parseMemory('1024')]).toEqual([
      96 * 2 ** 20,
      2 ** 30,
      512e6,
      1024,
    ]);
    expect(() => parseMemory('lots')).toThrow('not a memory quantity: lots');
  });

  it('counts app containers plus daprd sidecars plus backing and observability services', () => {
    const quiz = footprint.workloads.find((entry) => entry.workload === 'Deployment/quizmesh-quiz');
    // app 50m/96Mi + daprd 50m/48Mi from its annotations.
    expect(quiz).toEqual({
      workload: 'Deployment/quizmesh-quiz',
      replicas: 1,
      cpuMillis: 100,
      memoryBytes: 144 * 2 ** 20,
      sidecar: true,
    });
    expect(footprint.workloads.filter((entry) => entry.sidecar)).toHaveLength(6);
    // 6 apps, 5 backing services, the collector, Prometheus and Grafana.
    expect(footprint.workloads).toHaveLength(14);
  });

  it('fits a laptop minikube: at most 2 GiB of memory requests', () => {
    expect(footprint.totalMemoryBytes).toBeLessThanOrEqual(2 * 2 ** 30);
  });

  it('matches the table in charts/quizmesh/README.md (refresh: npm run footprint -w @quizmesh/deploy-checks -- --write)', () => {
    expect(footprintBlock(readFileSync(join(CHART_DIR, 'README.md'), 'utf8'))).toBe(footprintTable(footprint));
  });
});
