import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, HelmError, lintChart, renderChart, REPO_ROOT } from '../src/helm';
import { loadObjects } from '../src/yaml-files';
import { objectId, pathGet, asArray, asRecord, type KubeObject } from '../src/objects';
import { isKubernetesBuiltIn, validateKubernetesObject } from '../src/kubernetes-schema';
import { unknownFieldsOf } from '../src/kubernetes-fields';
import { isDaprResource, validateDaprResource } from '../src/dapr-schema';
import { checkPolicies, formatViolation, podTemplateOf } from '../src/policies';
import { findSecretValues } from '../src/values-secrets';
import { quizPublishedRead } from '@quizmesh/contracts/quiz-api';
import { operatorInvocations } from '@quizmesh/contracts/quiz-resource';

/** `<app> <topic> -> <route> dlq=<dead-letter topic>`: what a Subscription does, whatever its pubsub or name. */
function subscriptionSummary(object: KubeObject): string {
  const deadLetter = pathGet(object, 'spec.deadLetterTopic');
  const rawPayload = pathGet(object, 'spec.metadata.rawPayload');
  return `${asArray(object.scopes).join(',')} ${String(pathGet(object, 'spec.topic'))} -> ${String(
    pathGet(object, 'spec.routes.default'),
  )} dlq=${typeof deadLetter === 'string' ? deadLetter : '-'}${rawPayload === undefined ? '' : ` rawPayload=${String(rawPayload)}`}`;
}

/** Each variant CI renders: every ci/*-values.yaml, plus values-eks.yaml completed by the Terraform outputs example. */
const VARIANTS: Record<string, string[]> = Object.fromEntries([
  ...readdirSync(join(CHART_DIR, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .sort()
    .map((file): [string, string[]] => [file.replace('-values.yaml', ''), [join('ci', file)]]),
  ['values-eks+terraform', ['values-eks.yaml', join('ci', 'eks-values.yaml')]],
]);

const rendered = new Map<string, KubeObject[]>();

function objectsOf(variant: string): KubeObject[] {
  const objects = rendered.get(variant);
  if (objects === undefined) throw new Error(`variant ${variant} was not rendered`);
  return objects;
}

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`${kind}/${name} not rendered`);
  return found;
}

function names(objects: KubeObject[], kind: string): string[] {
  return objects
    .filter((object) => object.kind === kind)
    .map((object) => object.metadata.name)
    .sort();
}

beforeAll(async () => {
  // Render each variant once for the whole file.
  for (const [variant, files] of Object.entries(VARIANTS))
    rendered.set(variant, await renderChart({ valuesFiles: files }));
});

describe.each(Object.keys(VARIANTS))('chart variant %s', (variant) => {
  const files = VARIANTS[variant] ?? [];

  it('passes helm lint --strict', async () => {
    await expect(lintChart({ valuesFiles: files })).resolves.toContain('0 chart(s) failed');
  });

  it('renders only objects that validate against the Kubernetes schemas', () => {
    const builtIns = objectsOf(variant).filter((object) => !isDaprResource(object));
    expect(builtIns.length).toBeGreaterThan(0);
    expect(builtIns.filter((object) => !isKubernetesBuiltIn(object)).map(objectId)).toEqual([]);
    expect(builtIns.flatMap(validateKubernetesObject)).toEqual([]);
    expect(unknownFieldsOf(builtIns)).toEqual([]);
  });

  it('renders Dapr resources that validate against the Dapr CRD schemas', () => {
    const dapr = objectsOf(variant).filter(isDaprResource);
    expect(dapr.map((object) => object.kind)).toEqual(
      expect.arrayContaining(['Component', 'Subscription', 'Resiliency', 'Configuration']),
    );
    expect(dapr.flatMap(validateDaprResource)).toEqual([]);
  });

  it('satisfies every policy', () => {
    expect(checkPolicies(objectsOf(variant)).map(formatViolation)).toEqual([]);
  });

  it('keeps secret values out of the values files', () => {
    for (const file of files) expect(findSecretValues(parse(readFileSync(join(CHART_DIR, file), 'utf8')))).toEqual([]);
  });
});

describe('default install (minikube)', () => {
  const objects = (): KubeObject[] => objectsOf('minikube');
  const services = ['evaluation', 'gateway', 'identity', 'notification', 'operator', 'quiz'];

  it('has the gateway trust exactly the ingress controller’s hop, and no per-address cap behind it', async () => {
    const gatewayEnv = (objects: KubeObject[]) => {
      const pod = podTemplateOf(find(objects, 'Deployment', 'quizmesh-gateway')) as unknown as {
        spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> };
      };
      const env = pod.spec.containers.find((c) => c.name === 'app')?.env ?? [];
      return Object.fromEntries(
        env
          .filter((e) => ['TRUST_PROXY', 'MAX_CONNECTIONS_PER_ADDRESS'].includes(e.name))
          .map((e) => [e.name, e.value]),
      );
    };
    expect(gatewayEnv(objects())).toEqual({ TRUST_PROXY: '1', MAX_CONNECTIONS_PER_ADDRESS: '0' });
    const withoutIngress = await renderChart({ setJson: { 'ingress.enabled': false } });
    expect(gatewayEnv(withoutIngress)).toEqual({ TRUST_PROXY: 'false', MAX_CONNECTIONS_PER_ADDRESS: '256' });
  });

  it('runs every service with its Dapr sidecar, the operator included', () => {
    const appIds = objects()
      .map((object) => podTemplateOf(object))
      .map((pod) => asRecord(pod?.metadata.annotations)['dapr.io/app-id'])
      .filter((id) => id !== undefined)
      .sort();
    expect(appIds).toEqual(services);
    for (const name of services) {
      // One operator replica leads at a time (a Lease): more pods are standbys, not capacity.
      if (name !== 'operator') expect(names(objects(), 'HorizontalPodAutoscaler')).toContain(`quizmesh-${name}`);
      expect(names(objects(), 'PodDisruptionBudget')).toContain(`quizmesh-${name}`);
      expect(names(objects(), 'ServiceAccount')).toContain(`quizmesh-${name}`);
    }
  });

  it('installs the operator: the Quiz CRD kept on uninstall, least-privilege RBAC, API-server egress, a PDB', () => {
    const crd = find(objects(), 'CustomResourceDefinition', 'quizzes.quizmesh.io');
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    expect(pathGet(crd, 'spec.versions')).toEqual([
      expect.objectContaining({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } }),
    ]);
    const rules = asArray(pathGet(find(objects(), 'Role', 'quizmesh-operator'), 'rules'));
    expect(rules.flatMap((rule) => asArray(pathGet(rule, 'resources')))).toEqual([
      'quizzes',
      'quizzes/status',
      'quizzes/finalizers',
      'events',
      'leases',
      'leases',
    ]);
    expect(JSON.stringify(rules)).not.toMatch(/"\*"|delete|secrets/);
    const binding = find(objects(), 'RoleBinding', 'quizmesh-operator');
    expect(pathGet(binding, 'subjects')).toEqual([
      expect.objectContaining({ kind: 'ServiceAccount', name: 'quizmesh-operator' }),
    ]);
    const deployment = find(objects(), 'Deployment', 'quizmesh-operator');
    expect(asRecord(pathGet(deployment, 'spec.template.metadata.annotations'))['dapr.io/enabled']).toBe('true');
    const env = asArray(pathGet(asArray(pathGet(deployment, 'spec.template.spec.containers'))[0], 'env'));
    expect(env).toContainEqual({ name: 'QUIZ_SOURCE', value: 'kubernetes' });
    expect(env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(names(objects(), 'PodDisruptionBudget')).toContain('quizmesh-operator');
    const egress = asArray(pathGet(find(objects(), 'NetworkPolicy', 'quizmesh-operator'), 'spec.egress'));
    expect(JSON.stringify(egress)).toContain('ipBlock');
    const gatewayEnv = asArray(
      pathGet(
        asArray(pathGet(find(objects(), 'Deployment', 'quizmesh-gateway'), 'spec.template.spec.containers'))[0],
        'env',
      ),
    );
    expect(gatewayEnv).toContainEqual({
      name: 'UPSTREAM_APP_IDS',
      value: 'identity,quiz,evaluation,notification,operator',
    });
    // Only the gateway reads it; evaluation and the operator invoke apps too but report nothing.
    const withUpstreams = objects()
      .filter((o) => o.kind === 'Deployment')
      .filter((o) =>
        asArray(pathGet(o, 'spec.template.spec.containers')).some((c) =>
          asArray(pathGet(c, 'env')).some((e) => pathGet(e, 'name') === 'UPSTREAM_APP_IDS'),
        ),
      )
      .map((o) => o.metadata.name);
    expect(withUpstreams).toEqual(['quizmesh-gateway']);
  });

  it('runs the development backing services from pinned official images', () => {
    const images = ['rabbitmq', 'redis', 'postgres', 'jaeger', 'mailpit'].map((name) =>
      pathGet(find(objects(), 'Deployment', `quizmesh-${name}`), 'spec.template.spec.containers'),
    );
    expect(
      images.flatMap((containers) => asArray(containers).map((container) => String(pathGet(container, 'image')))),
    ).toEqual([
      'docker.io/library/rabbitmq:4.1.4-alpine',
      'docker.io/library/redis:7.4.5-alpine',
      'docker.io/library/postgres:17.6-alpine',
      'docker.io/jaegertracing/jaeger:2.10.0',
      'docker.io/axllent/mailpit:v1.27.0',
    ]);
  });

  it('migrates each database with quizmesh-migrate in a hook Job reading DATABASE_URL from a Secret', () => {
    for (const name of ['identity', 'quiz', 'evaluation']) {
      const job = find(objects(), 'Job', `quizmesh-${name}-migrate`);
      // The in-cluster PostgreSQL only exists after the first install: see docs/decisions/0302.
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('post-install,pre-upgrade');
      const container = asArray(pathGet(job, 'spec.template.spec.containers'))[0];
      expect(pathGet(container, 'command')).toEqual([
        'quizmesh-migrate',
        '--schema',
        `services/${name}/prisma/schema.prisma`,
      ]);
      expect(pathGet(asArray(pathGet(container, 'env'))[0], 'valueFrom.secretKeyRef')).toEqual({
        name: `quizmesh-${name}-database`,
        key: 'url',
      });
    }
    expect(names(objects(), 'Job')).toHaveLength(3);
  });

  it("lets only the gateway invoke services on /api/** and GET /readyz (and identity's JWKS); the operator only the quiz and evaluation routes it calls; evaluation only quiz's internal read of a version's quiz.published", () => {
    const apiOnly = [
      { name: '/api/**', httpVerb: ['*'], action: 'allow' },
      { name: '/readyz', httpVerb: ['GET'], action: 'allow' },
    ];
    const quizPublishedOnly = [{ name: quizPublishedRead.aclOperation, httpVerb: ['GET'], action: 'allow' }];
    for (const name of services) {
      const acl = pathGet(find(objects(), 'Configuration', `quizmesh-${name}`), 'spec.accessControl');
      expect(pathGet(acl, 'defaultAction')).toBe('deny');
      const policies = asArray(pathGet(acl, 'policies'));
      const operations =
        name === 'identity'
          ? [...apiOnly, { name: '/.well-known/jwks.json', httpVerb: ['GET'], action: 'allow' }]
          : name === 'operator'
            ? [
                { name: '/readyz', httpVerb: ['GET'], action: 'allow' },
                { name: '/api/v1/operator/status', httpVerb: ['GET'], action: 'allow' },
              ]
            : apiOnly;
      const callers =
        name === 'gateway' ? [] : name === 'quiz' || name === 'evaluation' ? ['gateway', 'operator'] : ['gateway'];
      const operatorOperations = (app: 'quiz' | 'evaluation') =>
        Object.values(operatorInvocations[app]).map((op) => ({ ...op, action: 'allow' }));
      const expected = callers.map((appId) =>
        expect.objectContaining({
          appId,
          defaultAction: 'deny',
          operations: appId === 'operator' ? operatorOperations(name as 'quiz' | 'evaluation') : operations,
        }),
      );
      // Policies come in app id order: evaluation's before the gateway's.
      if (name === 'quiz') {
        expected.unshift(
          expect.objectContaining({
            appId: quizPublishedRead.callerAppId,
            defaultAction: 'deny',
            operations: quizPublishedOnly,
          }),
        );
      }
      expect(policies).toEqual(expected);
    }
  });

  it('turns on daprd app health checks for every app, so consumers that are down pause their subscriptions', () => {
    const annotationsOf = (object: KubeObject) =>
      (pathGet(object, 'spec.template.metadata.annotations') ?? {}) as Record<string, string>;
    const deployments = objects().filter(
      (object) => object.kind === 'Deployment' && annotationsOf(object)['dapr.io/enabled'] === 'true',
    );
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      expect({ name: deployment.metadata.name, ...annotationsOf(deployment) }).toMatchObject({
        name: deployment.metadata.name,
        'dapr.io/enable-app-health-check': 'true',
        'dapr.io/app-health-check-path': '/healthz',
        'dapr.io/app-health-probe-interval': '1',
        'dapr.io/app-health-probe-timeout': '500',
        'dapr.io/app-health-threshold': '2',
      });
    }
  });

  it('subscribes each consumer to its topics and their dead-letter topics', () => {
    const subscriptions = objects()
      .filter((object) => object.kind === 'Subscription')
      .map(subscriptionSummary);
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        'evaluation quiz.completed -> /events/quiz.completed dlq=quiz.completed.deadletter',
        // rawPayload: poison that is not a CloudEvent reaches the admin API, parked (decision 0751).
        'evaluation quiz.completed.deadletter -> /events/quiz.completed.deadletter dlq=- rawPayload=true',
        // quiz compensates a scoring that dead-lettered (attempt FAILED, attempt.failed).
        'quiz quiz.completed.deadletter -> /events/quiz.completed.deadletter dlq=- rawPayload=true',
        'gateway leaderboard.updated -> /events/leaderboard.updated dlq=leaderboard.updated.deadletter',
        'notification attempt.failed -> /events/attempt.failed dlq=attempt.failed.deadletter',
      ]),
    );
  });

  it('renders exactly the Subscriptions that npm start uses (components/common), so both runs route events alike', () => {
    const rendered = objects()
      .filter((object) => object.kind === 'Subscription')
      .map(subscriptionSummary)
      .sort();
    const local = loadObjects(join(REPO_ROOT, 'components', 'common'), REPO_ROOT)
      .map((sourced) => sourced.object)
      .filter((object) => object.kind === 'Subscription')
      .map(subscriptionSummary)
      .sort();
    expect(rendered).toEqual(local);
  });

  it('renders exactly the cron bindings (scheduled jobs) that npm start uses, each scoped to its app', () => {
    const summary = (object: { metadata: { name: string }; scopes?: unknown }) =>
      `${object.metadata.name} ${JSON.stringify(pathGet(object, 'spec.metadata'))} scopes=${JSON.stringify(object.scopes)}`;
    const isCron = (object: { kind: string }) =>
      object.kind === 'Component' && pathGet(object, 'spec.type') === 'bindings.cron';
    const rendered = objects().filter(isCron).map(summary).sort();
    const local = loadObjects(join(REPO_ROOT, 'components', 'common'), REPO_ROOT)
      .map((sourced) => sourced.object)
      .filter(isCron)
      .map(summary)
      .sort();
    expect(rendered).toEqual(local);
    expect(rendered).toEqual([
      expect.stringMatching(/^attempt-expiry .*scopes=\["quiz"\]$/),
      expect.stringMatching(/^refresh-token-purge .*scopes=\["identity"\]$/),
    ]);
  });

  it('delivers leaderboard updates and view changes to every gateway and quiz replica, other events once per app', () => {
    const pubsubOf = (name: string): unknown => pathGet(find(objects(), 'Subscription', name), 'spec.pubsubname');
    expect(pubsubOf('quizmesh-gateway-leaderboard-updated')).toBe('pubsub-broadcast');
    expect(pubsubOf('quizmesh-gateway-leaderboard-updated-deadletter')).toBe('pubsub');
    expect(pubsubOf('quizmesh-quiz-leaderboard-updated')).toBe('pubsub-broadcast');
    expect(pubsubOf('quizmesh-quiz-quiz-view-changed')).toBe('pubsub-broadcast');
    expect(pubsubOf('quizmesh-quiz-score-calculated')).toBe('pubsub');
    const broadcast = find(objects(), 'Component', 'pubsub-broadcast');
    expect(asArray(pathGet(broadcast, 'spec.metadata'))).toEqual(
      expect.arrayContaining([
        { name: 'consumerID', value: '{podName}' },
        { name: 'maxLen', value: '1000' },
      ]),
    );
    expect(broadcast.scopes).toEqual(['gateway', 'quiz']);
  });

  it('declares each topic exchange alike from pubsub and pubsub-broadcast, or RabbitMQ refuses the second (406)', () => {
    // contrib's ensureExchangeDeclared passes the component's durable and deletedWhenUnused to
    // ExchangeDeclare; both components declare the exchange of every topic they share.
    const flags = (name: string): Record<string, unknown> => {
      const metadata = asArray(pathGet(find(objects(), 'Component', name), 'spec.metadata')).map(asRecord);
      const value = (key: string): unknown => metadata.find((entry) => entry.name === key)?.value;
      return { durable: value('durable'), deletedWhenUnused: value('deletedWhenUnused') };
    };
    expect(flags('pubsub')).toEqual({ durable: 'true', deletedWhenUnused: 'false' });
    expect(flags('pubsub-broadcast')).toEqual(flags('pubsub'));
  });

  it('declares the pubsub, state, secret store and SMTP components with secrets by reference', () => {
    const components = objects().filter((object) => object.kind === 'Component');
    expect(
      components.map((component) => `${component.metadata.name}: ${String(pathGet(component, 'spec.type'))}`).sort(),
    ).toEqual([
      'attempt-expiry: bindings.cron',
      'mail: bindings.smtp',
      'pubsub-broadcast: pubsub.rabbitmq',
      'pubsub: pubsub.rabbitmq',
      'refresh-token-purge: bindings.cron',
      'secretstore: secretstores.kubernetes',
      'statestore: state.redis',
    ]);
    const pubsub = find(objects(), 'Component', 'pubsub');
    expect(asArray(pathGet(pubsub, 'spec.metadata'))).toContainEqual({
      name: 'connectionString',
      secretKeyRef: { name: 'quizmesh-rabbitmq', key: 'connectionString' },
    });
    expect(find(objects(), 'Component', 'statestore').scopes).toEqual([
      'evaluation',
      // the gateway keeps each user's token "not before" (tokens.revoked)
      'gateway',
      'identity',
      'notification',
      'quiz',
    ]);
    expect(find(objects(), 'Component', 'mail').scopes).toEqual(['notification']);
  });

  it('has retries but no invoke timeout for every app, and circuit breakers for pub/sub delivery but none a client could open', () => {
    const resiliency = find(objects(), 'Resiliency', 'quizmesh');
    // No Dapr breaker on app targets: Dapr counts 4xx as failures (docs/decisions/0720). No
    // timeout: daprd retries a timed-out call whatever `matching` says (decision 0780).
    for (const name of services) expect(pathGet(resiliency, `spec.targets.apps.${name}`)).toEqual({ retry: 'invoke' });
    expect(pathGet(resiliency, 'spec.policies.timeouts.invoke')).toBeUndefined();
    expect(Object.keys(asRecord(pathGet(resiliency, 'spec.policies.circuitBreakers')))).not.toContain('app');
    expect(pathGet(resiliency, 'spec.targets.components.pubsub.inbound')).toEqual({
      timeout: 'pubsubInbound',
      retry: 'pubsubInbound',
    });
    expect(pathGet(resiliency, 'spec.targets.components.pubsub.outbound')).toMatchObject({
      circuitBreaker: 'component',
    });
  });

  it('names no circuit breaker for pub/sub delivery: daprd shares one breaker per component with publishing', () => {
    // pkg/resiliency/resiliency.go (1.16): ComponentInboundPolicy and ComponentOutboundPolicy take
    // the same componentCBs entry, so failing consumers would open the breaker the outbox relays
    // publish through (decision 0711).
    const resiliency = find(objects(), 'Resiliency', 'quizmesh');
    const pubsubs = objects()
      .filter((object) => object.kind === 'Component' && String(pathGet(object, 'spec.type')).startsWith('pubsub.'))
      .map((object) => object.metadata.name);
    expect(pubsubs.sort()).toEqual(['pubsub', 'pubsub-broadcast']);
    for (const name of pubsubs)
      expect(pathGet(resiliency, `spec.targets.components.${name}.inbound.circuitBreaker`)).toBeUndefined();
    const breakers = Object.keys(asRecord(pathGet(resiliency, 'spec.policies.circuitBreakers')));
    expect(breakers.filter((name) => /^Default(Pubsub)?Component(Inbound)?CircuitBreakerPolicy$/.test(name))).toEqual(
      [],
    );
  });

  it('traces daprd to the in-cluster collector over OTLP and points the apps at it; the collector forwards to Jaeger', () => {
    expect(pathGet(find(objects(), 'Configuration', 'quizmesh-quiz'), 'spec.tracing.otel')).toEqual({
      endpointAddress: 'quizmesh-otel-collector:4317',
      isSecure: false,
      protocol: 'grpc',
    });
    const env = asArray(
      pathGet(
        asArray(pathGet(find(objects(), 'Deployment', 'quizmesh-quiz'), 'spec.template.spec.containers'))[0],
        'env',
      ),
    );
    expect(env).toContainEqual({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://quizmesh-otel-collector:4318' });
    const collector = parse(
      String(asRecord(find(objects(), 'ConfigMap', 'quizmesh-otel-collector').data)['config.yaml']),
    );
    expect(pathGet(collector, 'exporters')).toEqual({
      'otlp/traces': { endpoint: 'quizmesh-jaeger:4317', tls: { insecure: true } },
      prometheus: { endpoint: '0.0.0.0:8889', resource_to_telemetry_conversion: { enabled: true } },
    });
    expect(pathGet(collector, 'service.pipelines')).toEqual({
      traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp/traces'] },
      metrics: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['prometheus'] },
    });
  });

  it("names every app's telemetry instance after its pod (service.instance.id), as npm start names replicas", () => {
    for (const name of services) {
      const pod = podTemplateOf(find(objects(), 'Deployment', `quizmesh-${name}`)) as unknown as {
        spec: { containers: Array<{ name: string; env?: Array<Record<string, unknown>> }> };
      };
      const env = pod.spec.containers.find((c) => c.name === 'app')?.env ?? [];
      expect({ name, instance: env.filter((e) => e.name === 'OTEL_SERVICE_INSTANCE_ID') }).toEqual({
        name,
        instance: [{ name: 'OTEL_SERVICE_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      });
    }
  });

  it('denies all traffic by default and opens only the needed paths', () => {
    const policies = names(objects(), 'NetworkPolicy');
    expect(policies).toEqual(
      expect.arrayContaining([
        'quizmesh-default-deny',
        'quizmesh-dns',
        'quizmesh-gateway',
        'quizmesh-postgres',
        'quizmesh-migrations',
      ]),
    );
    const gatewayIngress = asArray(pathGet(find(objects(), 'NetworkPolicy', 'quizmesh-gateway'), 'spec.ingress'));
    expect(gatewayIngress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
    // identity is not public: only sidecars reach it, and the in-cluster Prometheus its daprd's metrics port.
    expect(asArray(pathGet(find(objects(), 'NetworkPolicy', 'quizmesh-identity'), 'spec.ingress'))).toEqual([
      {
        from: [
          { podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'quizmesh', 'quizmesh.io/dapr': 'true' } } },
        ],
        ports: [{ protocol: 'TCP', port: 50002 }],
      },
      {
        from: [
          {
            podSelector: {
              matchLabels: {
                'app.kubernetes.io/name': 'prometheus',
                'app.kubernetes.io/instance': 'quizmesh',
                'app.kubernetes.io/component': 'observability',
              },
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9090 }],
      },
    ]);
    const postgresClients = pathGet(
      asArray(pathGet(find(objects(), 'NetworkPolicy', 'quizmesh-postgres'), 'spec.ingress'))[0],
      'from',
    );
    expect(postgresClients).toEqual([
      {
        podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'quizmesh', 'quizmesh.io/uses-postgres': 'true' } },
      },
    ]);
  });

  it('routes the ingress to the gateway only', () => {
    const paths = asArray(
      pathGet(asArray(pathGet(find(objects(), 'Ingress', 'quizmesh'), 'spec.rules'))[0], 'http.paths'),
    );
    expect(paths.map((path) => pathGet(path, 'backend.service'))).toEqual([
      { name: 'quizmesh-gateway', port: { number: 8080 } },
    ]);
  });
});

describe('observability stack (development values)', () => {
  const objects = (): KubeObject[] => objectsOf('minikube');
  const observability = (objects: KubeObject[]): string[] =>
    objects
      .filter((object) => object.metadata.labels?.['app.kubernetes.io/component'] === 'observability')
      .map(objectId)
      .sort();
  const grafanaEnv = (objects: KubeObject[]): unknown[] =>
    asArray(
      pathGet(
        asArray(pathGet(find(objects, 'Deployment', 'quizmesh-grafana'), 'spec.template.spec.containers'))[0],
        'env',
      ),
    );

  it('runs the collector, Prometheus and Grafana from pinned upstream images', () => {
    const images = ['otel-collector', 'prometheus', 'grafana'].map((name) =>
      pathGet(
        asArray(pathGet(find(objects(), 'Deployment', `quizmesh-${name}`), 'spec.template.spec.containers'))[0],
        'image',
      ),
    );
    expect(images).toEqual([
      'docker.io/otel/opentelemetry-collector-contrib:0.135.0',
      'docker.io/prom/prometheus:v3.5.0',
      'docker.io/grafana/grafana:12.1.1',
    ]);
    expect(names(objects(), 'ConfigMap')).toEqual(
      expect.arrayContaining(['quizmesh-grafana-dashboards', 'quizmesh-grafana-provisioning', 'quizmesh-prometheus']),
    );
  });

  it('scrapes the collector and every daprd metrics port of the release, discovered in its own namespace', () => {
    const config = parse(String(asRecord(find(objects(), 'ConfigMap', 'quizmesh-prometheus').data)['prometheus.yml']));
    const jobs = asArray(pathGet(config, 'scrape_configs'));
    expect(jobs.map((job) => pathGet(job, 'job_name'))).toEqual(['otel-collector', 'daprd']);
    expect(pathGet(jobs[0], 'static_configs')).toEqual([{ targets: ['quizmesh-otel-collector:8889'] }]);
    expect(pathGet(jobs[1], 'kubernetes_sd_configs')).toEqual([
      {
        role: 'pod',
        namespaces: { names: ['quizmesh'] },
        selectors: [{ role: 'pod', label: 'app.kubernetes.io/instance=quizmesh,quizmesh.io/dapr=true' }],
      },
    ]);
    // The injector names daprd's metrics port dapr-metrics (dapr v1.16.2 pkg/injector/consts).
    expect(asArray(pathGet(jobs[1], 'relabel_configs'))[0]).toEqual({
      source_labels: ['__meta_kubernetes_pod_container_port_name'],
      regex: 'dapr-metrics',
      action: 'keep',
    });
    expect(pathGet(find(objects(), 'RoleBinding', 'quizmesh-prometheus'), 'subjects')).toEqual([
      { kind: 'ServiceAccount', name: 'quizmesh-prometheus', namespace: 'quizmesh' },
    ]);
  });

  it('provisions Prometheus and Jaeger datasources and logs Grafana’s admin in from a generated Secret', () => {
    const provisioning = asRecord(find(objects(), 'ConfigMap', 'quizmesh-grafana-provisioning').data);
    expect(asArray(pathGet(parse(String(provisioning['datasources.yaml'])), 'datasources'))).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://quizmesh-prometheus:9090' }),
      expect.objectContaining({ uid: 'jaeger', type: 'jaeger', url: 'http://quizmesh-jaeger:16686' }),
    ]);
    const secret = find(objects(), 'Secret', 'quizmesh-grafana');
    expect(Object.keys(asRecord(secret.data)).sort()).toEqual(['admin-password', 'admin-user']);
    expect(grafanaEnv(objects())).toEqual(
      expect.arrayContaining([
        {
          name: 'GF_SECURITY_ADMIN_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'quizmesh-grafana', key: 'admin-password' } },
        },
        { name: 'GF_AUTH_ANONYMOUS_ENABLED', value: 'true' },
        { name: 'GF_AUTH_ANONYMOUS_ORG_ROLE', value: 'Viewer' },
      ]),
    );
  });

  it('uses an existing admin Secret and no anonymous access when told to', async () => {
    const objects = await renderChart({
      setJson: { 'observability.grafana': { adminExistingSecret: 'my-grafana-admin', anonymousViewer: false } },
    });
    expect(names(objects, 'Secret')).not.toContain('quizmesh-grafana');
    const env = grafanaEnv(objects);
    expect(env).toContainEqual({
      name: 'GF_SECURITY_ADMIN_USER',
      valueFrom: { secretKeyRef: { name: 'my-grafana-admin', key: 'admin-user' } },
    });
    expect(JSON.stringify(env)).not.toContain('GF_AUTH_ANONYMOUS');
  });

  it('opens only OTLP in, the scrape paths and the datasource reads', () => {
    const ingressPorts = (name: string): unknown[] =>
      asArray(pathGet(find(objects(), 'NetworkPolicy', name), 'spec.ingress')).flatMap((rule) =>
        asArray(pathGet(rule, 'ports')),
      );
    expect(ingressPorts('quizmesh-otel-collector')).toEqual([
      { protocol: 'TCP', port: 4317 },
      { protocol: 'TCP', port: 4318 },
      { protocol: 'TCP', port: 8889 },
    ]);
    expect(ingressPorts('quizmesh-prometheus')).toEqual([{ protocol: 'TCP', port: 9090 }]);
    expect(ingressPorts('quizmesh-grafana')).toEqual([]);
    expect(ingressPorts('quizmesh-jaeger-observability')).toEqual([
      { protocol: 'TCP', port: 4317 },
      { protocol: 'TCP', port: 16686 },
    ]);
    // The apps send OTLP to the collector only, and only the collector reaches Jaeger's OTLP ports.
    expect(names(objects(), 'NetworkPolicy')).not.toContain('quizmesh-jaeger');
    expect(
      names(objectsOf('values-eks+terraform'), 'NetworkPolicy').filter((name) => name.startsWith('quizmesh-jaeger')),
    ).toEqual(['quizmesh-jaeger']);
    const quizEgress = JSON.stringify(pathGet(find(objects(), 'NetworkPolicy', 'quizmesh-quiz'), 'spec.egress'));
    expect(quizEgress).toContain('"app.kubernetes.io/name":"otel-collector"');
    expect(quizEgress).not.toContain('"app.kubernetes.io/name":"jaeger"');
  });

  it('renders none of it with production values (EKS) or with the backing services off; traces then go to Jaeger or the given collector', () => {
    expect(observability(objectsOf('values-eks+terraform'))).toEqual([]);
    expect(observability(objectsOf('backing-off'))).toEqual([]);
    expect(
      pathGet(find(objectsOf('values-eks+terraform'), 'Configuration', 'quizmesh-quiz'), 'spec.tracing.otel'),
    ).toEqual(expect.objectContaining({ endpointAddress: 'quizmesh-jaeger:4317' }));
    expect(observability(objects())).toEqual(
      expect.arrayContaining([
        'Deployment/quizmesh-grafana',
        'Deployment/quizmesh-otel-collector',
        'Deployment/quizmesh-prometheus',
      ]),
    );
  });
});

describe('EKS and other variants', () => {
  it('uses managed backends through existing Secrets and ECR images on EKS', () => {
    const objects = objectsOf('values-eks+terraform');
    expect(names(objects, 'Deployment').filter((name) => /rabbitmq|redis|postgres|mailpit/.test(name))).toEqual([]);
    // Only the generated Dapr tokens: every backend credential comes from an existing Secret.
    expect(names(objects, 'Secret').filter((name) => !/-(api|app)-token$/.test(name))).toEqual([]);
    const identity = find(objects, 'Deployment', 'quizmesh-identity');
    const container = asArray(pathGet(identity, 'spec.template.spec.containers'))[0];
    expect(pathGet(container, 'image')).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/quizmesh_identity:0.1.0');
    expect(asArray(pathGet(container, 'env'))).toContainEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'quizmesh-identity-database', key: 'url' } },
    });
    expect(find(objects, 'Job', 'quizmesh-identity-migrate').metadata.annotations?.['helm.sh/hook']).toBe(
      'pre-install,pre-upgrade',
    );
    expect(asArray(pathGet(find(objects, 'Component', 'statestore'), 'spec.metadata'))).toContainEqual({
      name: 'enableTLS',
      value: 'true',
    });
    expect(pathGet(find(objects, 'HorizontalPodAutoscaler', 'quizmesh-quiz'), 'spec.minReplicas')).toBe(2);
  });

  it('renders fixed replicas and no HPAs with autoscaling off, and the operator when enabled', () => {
    const objects = objectsOf('autoscaling-off');
    expect(names(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(pathGet(find(objects, 'Deployment', 'quizmesh-quiz'), 'spec.replicas')).toBe(2);
    const rules = asArray(pathGet(find(objects, 'Role', 'quizmesh-operator'), 'rules'));
    expect(rules).toContainEqual({
      apiGroups: ['quizmesh.io'],
      resources: ['quizzes'],
      verbs: ['get', 'list', 'watch', 'update'],
    });
    // The operator may invoke the quiz service (and evaluation), nothing else; evaluation only quiz.
    const quizPolicies = asArray(
      pathGet(find(objects, 'Configuration', 'quizmesh-quiz'), 'spec.accessControl.policies'),
    );
    expect(quizPolicies.map((policy) => pathGet(policy, 'appId')).sort()).toEqual([
      'evaluation',
      'gateway',
      'operator',
    ]);
    const identityPolicies = asArray(
      pathGet(find(objects, 'Configuration', 'quizmesh-identity'), 'spec.accessControl.policies'),
    );
    expect(identityPolicies.map((policy) => pathGet(policy, 'appId'))).toEqual(['gateway']);
  });

  it.each(Object.keys(VARIANTS))(
    '%s: lets every app pod reach the API server on the EKS (443), kind (6443) and minikube (8443) ports',
    (variant) => {
      // daprd reads jwt-signing-keys through the API server; a missing port keeps identity unready.
      for (const name of ['quizmesh-identity', 'quizmesh-gateway']) {
        const egress = asArray(pathGet(find(objectsOf(variant), 'NetworkPolicy', name), 'spec.egress'));
        const apiRules = egress.filter(
          (rule) =>
            asArray(pathGet(rule, 'to')).some((to) => pathGet(to, 'ipBlock') !== undefined) &&
            asArray(pathGet(rule, 'ports')).some((port) => pathGet(port, 'port') === 443),
        );
        expect(apiRules).toHaveLength(1);
        expect(asArray(pathGet(apiRules[0], 'ports'))).toEqual(
          expect.arrayContaining([
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 6443 },
            { protocol: 'TCP', port: 8443 },
          ]),
        );
      }
    },
  );

  it.each(Object.keys(VARIANTS))('%s: renders only secret stores that something reads', (variant) => {
    const objects = objectsOf(variant);
    const components = objects.filter((object) => object.kind === 'Component');
    const stores = components
      .filter((object) => String(pathGet(object, 'spec.type')).startsWith('secretstores.'))
      .map((object) => object.metadata.name);
    expect(stores.length).toBeGreaterThan(0);
    // Readers: components resolving secretKeyRefs through a store, and identity's JWT signing keys
    // (SECRET_STORE_NAME, default `secretstore`: services/identity/src/config.ts).
    const identityEnv = asArray(
      pathGet(
        asArray(pathGet(find(objects, 'Deployment', 'quizmesh-identity'), 'spec.template.spec.containers'))[0],
        'env',
      ),
    );
    const readers = new Set([
      ...components.map((object) => String(pathGet(object, 'auth.secretStore'))),
      String(
        pathGet(
          identityEnv.find((env) => pathGet(env, 'name') === 'SECRET_STORE_NAME'),
          'value',
        ) ?? 'secretstore',
      ),
    ]);
    expect(stores.filter((store) => !readers.has(store))).toEqual([]);
  });

  it('renders no backing services and only the JWT signing keys Secret when they are off', () => {
    const objects = objectsOf('backing-off');
    expect(objects.filter((object) => object.metadata.labels?.['app.kubernetes.io/component'] === 'backing')).toEqual(
      [],
    );
    expect(names(objects, 'Secret').filter((name) => !/-(api|app)-token$/.test(name))).toEqual(['jwt-signing-keys']);
  });

  it('gives every app a Dapr API token and an app token, from generated Secrets, in its sidecar and its container', () => {
    for (const variant of ['values-eks+terraform', 'backing-off'] as const) {
      const objects = objectsOf(variant);
      const secrets = new Set(names(objects, 'Secret'));
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        const annotations = asRecord(pathGet(deployment, 'spec.template.metadata.annotations'));
        if (annotations['dapr.io/enabled'] !== 'true') continue;
        const apiSecret = String(annotations['dapr.io/api-token-secret']);
        const appSecret = String(annotations['dapr.io/app-token-secret']);
        expect([secrets.has(apiSecret), secrets.has(appSecret), apiSecret === appSecret]).toEqual([true, true, false]);
        const env = asArray(pathGet(asArray(pathGet(deployment, 'spec.template.spec.containers'))[0], 'env'));
        expect(env).toContainEqual({
          name: 'DAPR_API_TOKEN',
          valueFrom: { secretKeyRef: { name: apiSecret, key: 'token' } },
        });
        expect(env).toContainEqual({
          name: 'APP_API_TOKEN',
          valueFrom: { secretKeyRef: { name: appSecret, key: 'token' } },
        });
      }
    }
  });

  it('lets identity, and only identity, read the JWT signing keys', () => {
    const objects = objectsOf('minikube');
    expect(find(objects, 'Role', 'quizmesh-identity').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['jwt-signing-keys'], verbs: ['get'] },
    ]);
    // Prometheus's Role reads pods only (daprd discovery).
    expect(names(objects, 'Role')).toEqual(['quizmesh-identity', 'quizmesh-operator', 'quizmesh-prometheus']);
    expect(find(objects, 'Role', 'quizmesh-prometheus').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(JSON.stringify(find(objects, 'Role', 'quizmesh-operator').rules)).not.toContain('secrets');
    expect(pathGet(find(objects, 'Configuration', 'quizmesh-identity'), 'spec.secrets.scopes')).toContainEqual({
      storeName: 'secretstore',
      defaultAccess: 'deny',
      allowedSecrets: ['jwt-signing-keys'],
    });
    expect(pathGet(find(objects, 'Configuration', 'quizmesh-quiz'), 'spec.secrets.scopes')).toContainEqual({
      storeName: 'secretstore',
      defaultAccess: 'deny',
    });
    const keys = find(objects, 'Secret', 'jwt-signing-keys');
    const value: unknown = JSON.parse(
      Buffer.from(String(pathGet(keys, 'data.jwt-signing-keys')), 'base64').toString('utf8'),
    );
    expect(String(pathGet(value, 'current.privateKeyPem'))).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
  });
});

describe('values.schema.json', () => {
  async function renderError(setJson: Record<string, unknown>): Promise<string> {
    try {
      await renderChart({ setJson });
    } catch (error: unknown) {
      if (error instanceof HelmError) return error.output;
      throw error;
    }
    throw new Error(`values ${JSON.stringify(setJson)} were accepted`);
  }

  it('rejects a typo in a service entry', async () => {
    expect(await renderError({ 'services.quiz.replcas': 2 })).toMatch(
      /services\/quiz.*additional properties 'replcas' not allowed/,
    );
  });

  it('rejects a wrong type', async () => {
    expect(await renderError({ 'services.gateway.port': '8080' })).toMatch(
      /services\/gateway\/port.*got string, want integer/,
    );
  });

  it('rejects the latest tag and unpinned backing images', async () => {
    expect(await renderError({ 'image.tag': 'latest' })).toMatch(/image\/tag/);
    expect(await renderError({ 'backing.redis.image': 'redis' })).toMatch(/backing\/redis\/image/);
    expect(await renderError({ 'observability.grafana.image': 'docker.io/grafana/grafana:latest' })).toMatch(
      /observability\/grafana\/image/,
    );
    expect(await renderError({ 'observability.prometheus': { enabled: true, retention: 'forever' } })).toMatch(
      /observability\/prometheus/,
    );
  });

  it('rejects a service without resource limits', async () => {
    expect(await renderError({ 'services.quiz.resources': { requests: { cpu: '10m', memory: '10Mi' } } })).toMatch(
      /services\/quiz\/resources.*missing property 'limits'/,
    );
  });

  it('rejects an API-server port list that is empty or not port numbers', async () => {
    expect(await renderError({ 'networkPolicy.kubernetesApiPorts': [] })).toMatch(/kubernetesApiPorts/);
    expect(await renderError({ 'networkPolicy.kubernetesApiPorts': ['8443'] })).toMatch(/kubernetesApiPorts/);
  });

  it('requires existing Secrets when the in-cluster backends are off', async () => {
    expect(await renderError({ 'backing.postgres.enabled': false })).toContain(
      'services.evaluation.database.existingSecret is required',
    );
  });
});
