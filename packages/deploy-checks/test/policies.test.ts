import { renderChart } from '../src/helm';
import { asArray, asRecord, isRecord, pathGet, type JsonRecord, type KubeObject } from '../src/objects';
import { checkPolicies, formatViolation } from '../src/policies';
import { validateDaprResource } from '../src/dapr-schema';
import { validateKubernetesObject } from '../src/kubernetes-schema';
import { unknownFieldsOf } from '../src/kubernetes-fields';
import { findSecretValues } from '../src/values-secrets';

/** Mutation tests: break one thing in a valid render and check the right rule names the right object. */
let baseline: KubeObject[] = [];

beforeAll(async () => {
  baseline = await renderChart();
});

function mutated(kind: string, name: string, change: (object: JsonRecord) => void): KubeObject[] {
  const copy = structuredClone(baseline);
  const target = copy.find((object) => object.kind === kind && object.metadata.name === name);
  if (target === undefined) throw new Error(`${kind}/${name} not rendered`);
  change(target);
  return copy;
}

function record(value: unknown, what: string): JsonRecord {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  return value;
}

function firstContainer(object: JsonRecord): JsonRecord {
  return record(asArray(pathGet(object, 'spec.template.spec.containers'))[0], 'first container');
}

function podAnnotations(object: JsonRecord): JsonRecord {
  return record(pathGet(object, 'spec.template.metadata.annotations'), 'pod annotations');
}

function violations(objects: KubeObject[]): string[] {
  return checkPolicies(objects).map(formatViolation);
}

it('accepts the unmodified default render', () => {
  expect(violations(baseline)).toEqual([]);
});

it('reports a values override that removes limits, even past the values schema', async () => {
  const objects = await renderChart({
    setJson: { 'services.quiz.resources.limits': null },
    skipSchemaValidation: true,
  });
  expect(violations(objects)).toEqual([
    '[container-resources] Deployment/quizmesh-quiz: container "app" has no resources.limits.cpu',
    '[container-resources] Deployment/quizmesh-quiz: container "app" has no resources.limits.memory',
  ]);
});

it('reports a missing probe', () => {
  const objects = mutated('Deployment', 'quizmesh-gateway', (object) => {
    delete firstContainer(object).readinessProbe;
  });
  expect(violations(objects)).toEqual([
    '[container-probes] Deployment/quizmesh-gateway: container "app" has no readinessProbe',
  ]);
});

it('reports a weakened securityContext', () => {
  const objects = mutated('Deployment', 'quizmesh-redis', (object) => {
    const context = record(firstContainer(object).securityContext, 'securityContext');
    context.readOnlyRootFilesystem = false;
    context.capabilities = { drop: ['NET_RAW'] };
  });
  expect(violations(objects)).toEqual([
    '[security-context] Deployment/quizmesh-redis: container "redis" does not set readOnlyRootFilesystem: true',
    '[security-context] Deployment/quizmesh-redis: container "redis" does not drop ALL capabilities',
  ]);
});

it('reports a root container and a missing seccomp profile in a Job', () => {
  const objects = mutated('Job', 'quizmesh-quiz-migrate', (object) => {
    const podContext = record(pathGet(object, 'spec.template.spec.securityContext'), 'pod securityContext');
    podContext.runAsUser = 0;
    delete podContext.seccompProfile;
    delete record(firstContainer(object).securityContext, 'securityContext').seccompProfile;
  });
  expect(violations(objects)).toEqual([
    '[security-context] Job/quizmesh-quiz-migrate: container "migrate" runs as user 0',
    '[security-context] Job/quizmesh-quiz-migrate: container "migrate" has no RuntimeDefault seccomp profile',
  ]);
});

it('reports the latest tag', () => {
  const objects = mutated('Deployment', 'quizmesh-identity', (object) => {
    firstContainer(object).image = 'quizmesh/identity:latest';
  });
  expect(violations(objects)).toEqual([
    '[image-pinned] Deployment/quizmesh-identity: container "app" image "quizmesh/identity:latest" uses the latest tag',
  ]);
});

it('reports an HPA whose pod has no sidecar CPU request', () => {
  const objects = mutated('Deployment', 'quizmesh-quiz', (object) => {
    delete podAnnotations(object)['dapr.io/sidecar-cpu-request'];
  });
  expect(violations(objects)).toEqual([
    '[sidecar-resources] Deployment/quizmesh-quiz: daprd sidecar has no dapr.io/sidecar-cpu-request annotation',
    '[hpa-cpu-requests] HorizontalPodAutoscaler/quizmesh-quiz: target Deployment/quizmesh-quiz: the daprd sidecar (dapr.io/sidecar-cpu-request) has no CPU request, so CPU utilisation is undefined',
  ]);
});

it('reports an HPA targeting a Deployment that does not exist', () => {
  const objects = mutated('HorizontalPodAutoscaler', 'quizmesh-quiz', (object) => {
    record(pathGet(object, 'spec.scaleTargetRef'), 'scaleTargetRef').name = 'quizmesh-quizz';
  });
  expect(violations(objects)).toEqual([
    '[hpa-target] HorizontalPodAutoscaler/quizmesh-quiz: scaleTargetRef Deployment/quizmesh-quizz is not rendered',
  ]);
});

it('reports a Subscription without a dead-letter topic', () => {
  const objects = mutated('Subscription', 'quizmesh-evaluation-quiz-completed', (object) => {
    delete record(object.spec, 'spec').deadLetterTopic;
  });
  expect(violations(objects)).toEqual([
    '[subscription-dead-letter] Subscription/quizmesh-evaluation-quiz-completed: topic quiz.completed has no deadLetterTopic',
  ]);
});

it('reports a Subscription on a missing pub/sub component or outside its scopes', () => {
  const objects = mutated('Subscription', 'quizmesh-identity-score-calculated', (object) => {
    record(object.spec, 'spec').pubsubname = 'pubsub-broadcast';
  });
  const missing = mutated('Subscription', 'quizmesh-evaluation-quiz-published', (object) => {
    record(object.spec, 'spec').pubsubname = 'pubsubb';
  });
  expect([...violations(objects), ...violations(missing)]).toEqual([
    '[subscription-pubsub] Subscription/quizmesh-identity-score-calculated: app "identity" is not in the scopes of Component/pubsub-broadcast',
    '[subscription-pubsub] Subscription/quizmesh-evaluation-quiz-published: pubsubname "pubsubb" is not a rendered pub/sub Component',
  ]);
});

it('reports a dead-letter topic nobody consumes', () => {
  const copy = structuredClone(baseline).filter(
    (object) => object.metadata.name !== 'quizmesh-identity-score-calculated-deadletter',
  );
  expect(violations(copy)).toEqual([
    '[subscription-dead-letter] Subscription/quizmesh-identity-score-calculated: nobody in its scopes consumes score.calculated.deadletter, so dead letters cannot be listed or replayed',
  ]);
});

it('reports an access-control policy for an unknown app id and an allow-by-default ACL', () => {
  const objects = mutated('Configuration', 'quizmesh-quiz', (object) => {
    const acl = record(pathGet(object, 'spec.accessControl'), 'accessControl');
    acl.defaultAction = 'allow';
    acl.policies = [...asArray(acl.policies), { appId: 'gatewy', defaultAction: 'deny', operations: [] }];
  });
  expect(violations(objects)).toEqual([
    '[access-control] Configuration/quizmesh-quiz: defaultAction is allow, expected deny',
    '[access-control-app-id] Configuration/quizmesh-quiz: policy for app id "gatewy", which no rendered workload has',
  ]);
});

it('reports a secret value in a ConfigMap', () => {
  const objects = mutated('ConfigMap', 'quizmesh-postgres-init', (object) => {
    record(object.data, 'data')['database.url'] = 'postgresql://quiz:s3cr3tpass@quizmesh-postgres:5432/quiz';
    record(object.data, 'data').adminPassword = 'hunter2hunter2';
  });
  expect(violations(objects)).toEqual([
    '[configmap-secrets] ConfigMap/quizmesh-postgres-init: key "database.url" holds a URL with embedded credentials',
    '[configmap-secrets] ConfigMap/quizmesh-postgres-init: key "adminPassword" looks like a secret; use a Secret',
  ]);
});

it('reports a pod without an emptyDir at /tmp and a Service selecting nothing', () => {
  const objects = mutated('Deployment', 'quizmesh-notification', (object) => {
    firstContainer(object).volumeMounts = [];
    record(pathGet(object, 'spec.template.metadata.labels'), 'labels')['app.kubernetes.io/name'] = 'notifications';
  });
  expect(violations(objects)).toEqual(
    expect.arrayContaining([
      '[tmp-volume] Deployment/quizmesh-notification: container "app" has no emptyDir mounted at /tmp',
      '[selector-matches] Service/quizmesh-notification: selector {"app.kubernetes.io/name":"notification","app.kubernetes.io/instance":"quizmesh","app.kubernetes.io/component":"service"} matches no rendered pod template',
    ]),
  );
});

it('reports an egress rule open to every destination', () => {
  const objects = mutated('NetworkPolicy', 'quizmesh-quiz', (object) => {
    const egress = asArray(pathGet(object, 'spec.egress'));
    delete record(egress[0], 'egress rule').to;
  });
  expect(violations(objects)).toEqual([
    '[network-egress-anywhere] NetworkPolicy/quizmesh-quiz: an egress rule without `to` allows every destination',
  ]);
});

it('reports a typo in a Dapr resource through the strict CRD schema', () => {
  const component = structuredClone(
    baseline.find((object) => object.kind === 'Component' && object.metadata.name === 'pubsub'),
  );
  if (component === undefined) throw new Error('pubsub not rendered');
  const spec = asRecord(component.spec);
  spec.metdata = spec.metadata;
  delete spec.metadata;
  expect(validateDaprResource(component)).toEqual([
    "Component/pubsub: /spec should NOT have additional properties 'metdata'",
    "Component/pubsub: /spec should have required property 'metadata'",
  ]);
});

it('reports a Kubernetes schema error with the object name', () => {
  const deployment = structuredClone(
    baseline.find((object) => object.kind === 'Deployment' && object.metadata.name === 'quizmesh-quiz'),
  );
  if (deployment === undefined) throw new Error('quizmesh-quiz not rendered');
  firstContainer(deployment).ports = [{ containerPort: '3002' }];
  expect(validateKubernetesObject(deployment)).toEqual([
    expect.stringMatching(/^Deployment\/quizmesh-quiz: .*containerPort must be integer/),
  ]);
});

it('reports unknown fields in built-in objects (strict field validation)', () => {
  const objects = mutated('Deployment', 'quizmesh-quiz', (object) => {
    const container = firstContainer(object);
    container.imagePullPolicyy = 'Always';
    record(container.resources, 'resources').limit = { cpu: '1' };
  });
  const ingress = mutated('Ingress', 'quizmesh', (object) => {
    record(object.spec, 'spec').ingressClass = 'nginx';
  }).filter((object) => object.kind === 'Ingress');
  expect(
    unknownFieldsOf([
      ...objects.filter((object) => object.metadata.name === 'quizmesh-quiz' && object.kind === 'Deployment'),
      ...ingress,
    ]),
  ).toEqual([
    'Deployment/quizmesh-quiz: spec.template.spec.containers[0].resources.limit: unknown field',
    'Deployment/quizmesh-quiz: spec.template.spec.containers[0].imagePullPolicyy: unknown field',
    'Ingress/quizmesh: spec.ingressClass: unknown field',
  ]);
});

it('finds secret literals in values documents but not Secret names', () => {
  expect(
    findSecretValues({
      backends: { redis: { existingSecret: 'quizmesh-redis', password: 'hunter2' } },
      smtp: [{ apiKey: 'k' }],
    }),
  ).toEqual(['backends.redis.password', 'smtp[0].apiKey']);
});
