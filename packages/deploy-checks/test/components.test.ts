import { join } from 'node:path';
import { quizPublishedRead } from '@quizmesh/contracts/quiz-api';
import { operatorInvocations } from '@quizmesh/contracts/quiz-resource';
import { REPO_ROOT, renderChart } from '../src/helm';
import { isDaprResource, validateDaprResource } from '../src/dapr-schema';
import { asArray, pathGet } from '../src/objects';
import { loadObjects } from '../src/yaml-files';

// components/ is written by the runtime team; whatever Dapr resources exist there at test time
// must be valid for real Dapr too (the local sidecar loads the same YAML).
const COMPONENTS = join(REPO_ROOT, 'components');

describe('components/', () => {
  it('holds only YAML documents that parse as Kubernetes-style objects', () => {
    expect(() => loadObjects(COMPONENTS, REPO_ROOT)).not.toThrow();
  });

  it('validates every Dapr resource against the Dapr CRD schemas', () => {
    const resources = loadObjects(COMPONENTS, REPO_ROOT).filter(({ object }) => isDaprResource(object));
    expect(
      resources.flatMap(({ file, object }) => validateDaprResource(object).map((error) => `${file}: ${error}`)),
    ).toEqual([]);
  });
});

describe('components/common/config.yaml', () => {
  const policyOf = (configuration: unknown, appId: string) =>
    asArray(pathGet(configuration, 'spec.accessControl.policies')).find((p) => pathGet(p, 'appId') === appId);

  it("lets evaluation call only quiz's internal read of quiz.published (GET), as the chart's quiz Configuration does", async () => {
    const local = loadObjects(join(COMPONENTS, 'common'), REPO_ROOT).find(
      ({ object }) => object.kind === 'Configuration',
    )?.object;
    const chart = (await renderChart()).find((o) => o.kind === 'Configuration' && o.metadata.name === 'quizmesh-quiz');
    const onlyTheRead = [{ name: quizPublishedRead.aclOperation, httpVerb: ['GET'], action: 'allow' }];
    expect(pathGet(policyOf(local, 'evaluation'), 'operations')).toEqual(onlyTheRead);
    expect(pathGet(policyOf(chart, 'evaluation'), 'operations')).toEqual(onlyTheRead);
    expect(pathGet(policyOf(local, 'evaluation'), 'defaultAction')).toBe('deny');
  });

  it('lets the operator call exactly the quiz and evaluation routes it uses, as the chart does', async () => {
    const local = loadObjects(join(COMPONENTS, 'common'), REPO_ROOT).find(
      ({ object }) => object.kind === 'Configuration',
    )?.object;
    const allowed = (ops: Record<string, { name: string; httpVerb: readonly string[] }>) =>
      Object.values(ops).map((op) => ({ name: op.name, httpVerb: [...op.httpVerb], action: 'allow' }));
    // One local Configuration for every sidecar: the operator's policy holds both apps' routes.
    expect(pathGet(policyOf(local, 'operator'), 'operations')).toEqual([
      ...allowed(operatorInvocations.quiz),
      ...allowed(operatorInvocations.evaluation),
    ]);
    expect(pathGet(policyOf(local, 'operator'), 'defaultAction')).toBe('deny');
    const chart = await renderChart();
    for (const app of ['quiz', 'evaluation'] as const) {
      const configuration = chart.find((o) => o.kind === 'Configuration' && o.metadata.name === `quizmesh-${app}`);
      expect(pathGet(policyOf(configuration, 'operator'), 'operations')).toEqual(allowed(operatorInvocations[app]));
    }
  });
});
