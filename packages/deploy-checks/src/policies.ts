import { asArray, asRecord, asString, isRecord, objectId, pathGet, type JsonRecord, type KubeObject } from './objects';

/** One broken rule, naming the object and the rule so a failing test says what to fix. */
export interface Violation {
  rule: string;
  object: string;
  message: string;
}

export function formatViolation(violation: Violation): string {
  return `[${violation.rule}] ${violation.object}: ${violation.message}`;
}

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const SIDECAR_ANNOTATIONS = ['cpu-request', 'memory-request', 'cpu-limit', 'memory-limit'].map(
  (name) => `dapr.io/sidecar-${name}`,
);

export interface PodTemplate {
  owner: KubeObject;
  metadata: JsonRecord;
  spec: JsonRecord;
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod). */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  const template =
    object.kind === 'Pod'
      ? object
      : object.kind === 'CronJob'
        ? pathGet(object, 'spec.jobTemplate.spec.template')
        : ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(object.kind)
          ? pathGet(object, 'spec.template')
          : undefined;
  if (!isRecord(template)) return undefined;
  return { owner: object, metadata: asRecord(template.metadata), spec: asRecord(template.spec) };
}

export function containersOf(pod: PodTemplate): JsonRecord[] {
  return [...asArray(pod.spec.initContainers), ...asArray(pod.spec.containers)].filter(isRecord);
}

function annotationsOf(pod: PodTemplate): Record<string, unknown> {
  return asRecord(pod.metadata.annotations);
}

export function daprEnabled(pod: PodTemplate): boolean {
  return annotationsOf(pod)['dapr.io/enabled'] === 'true';
}

function containerName(container: JsonRecord): string {
  return asString(container.name) ?? '(unnamed)';
}

function checkResources(pod: PodTemplate, out: Violation[]): void {
  for (const container of containersOf(pod)) {
    for (const path of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']) {
      const value = pathGet(container.resources, path);
      if (value === undefined || value === null || value === '') {
        out.push({
          rule: 'container-resources',
          object: objectId(pod.owner),
          message: `container "${containerName(container)}" has no resources.${path}`,
        });
      }
    }
  }
  if (daprEnabled(pod)) {
    for (const annotation of SIDECAR_ANNOTATIONS) {
      if (!asString(annotationsOf(pod)[annotation])) {
        out.push({
          rule: 'sidecar-resources',
          object: objectId(pod.owner),
          message: `daprd sidecar has no ${annotation} annotation`,
        });
      }
    }
  }
}

function checkProbes(pod: PodTemplate, out: Violation[]): void {
  if (!LONG_RUNNING.has(pod.owner.kind)) return;
  for (const container of asArray(pod.spec.containers).filter(isRecord)) {
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (!isRecord(container[probe])) {
        out.push({
          rule: 'container-probes',
          object: objectId(pod.owner),
          message: `container "${containerName(container)}" has no ${probe}`,
        });
      }
    }
  }
}

function checkSecurityContext(pod: PodTemplate, out: Violation[]): void {
  const podContext = asRecord(pod.spec.securityContext);
  const report = (container: JsonRecord, message: string): void => {
    out.push({
      rule: 'security-context',
      object: objectId(pod.owner),
      message: `container "${containerName(container)}" ${message}`,
    });
  };
  for (const container of containersOf(pod)) {
    const context = asRecord(container.securityContext);
    const runAsNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
    const runAsUser = context.runAsUser ?? podContext.runAsUser;
    if (runAsNonRoot !== true) report(container, 'does not set runAsNonRoot: true');
    if (runAsUser === 0) report(container, 'runs as user 0');
    if (context.allowPrivilegeEscalation !== false) report(container, 'does not set allowPrivilegeEscalation: false');
    if (context.privileged === true) report(container, 'is privileged');
    if (context.readOnlyRootFilesystem !== true) report(container, 'does not set readOnlyRootFilesystem: true');
    if (!asArray(pathGet(context, 'capabilities.drop')).includes('ALL'))
      report(container, 'does not drop ALL capabilities');
    const seccomp = pathGet(context, 'seccompProfile.type') ?? pathGet(podContext, 'seccompProfile.type');
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      report(container, 'has no RuntimeDefault seccomp profile');
  }
  if (daprEnabled(pod) && annotationsOf(pod)['dapr.io/sidecar-seccomp-profile-type'] !== 'RuntimeDefault') {
    out.push({
      rule: 'security-context',
      object: objectId(pod.owner),
      message: 'daprd sidecar has no dapr.io/sidecar-seccomp-profile-type: RuntimeDefault',
    });
  }
}

/** Dapr app pods write only to an emptyDir at /tmp (read-only root filesystem). */
function checkTmpVolume(pod: PodTemplate, out: Violation[]): void {
  if (!daprEnabled(pod)) return;
  const emptyDirs = new Set(
    asArray(pod.spec.volumes)
      .filter(isRecord)
      .filter((volume) => isRecord(volume.emptyDir))
      .map((volume) => asString(volume.name)),
  );
  for (const container of asArray(pod.spec.containers).filter(isRecord)) {
    const mountsTmp = asArray(container.volumeMounts)
      .filter(isRecord)
      .some((mount) => mount.mountPath === '/tmp' && emptyDirs.has(asString(mount.name)));
    if (!mountsTmp)
      out.push({
        rule: 'tmp-volume',
        object: objectId(pod.owner),
        message: `container "${containerName(container)}" has no emptyDir mounted at /tmp`,
      });
  }
}

function checkImages(pod: PodTemplate, out: Violation[]): void {
  for (const container of containersOf(pod)) {
    const image = asString(container.image) ?? '';
    const lastSegment = image.split('/').pop() ?? '';
    const digest = image.includes('@sha256:');
    const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1).split('@')[0] : undefined;
    if (tag === 'latest') {
      out.push({
        rule: 'image-pinned',
        object: objectId(pod.owner),
        message: `container "${containerName(container)}" image "${image}" uses the latest tag`,
      });
    } else if (!digest && (tag === undefined || tag === '')) {
      out.push({
        rule: 'image-pinned',
        object: objectId(pod.owner),
        message: `container "${containerName(container)}" image "${image}" is not pinned to an exact tag or digest`,
      });
    }
  }
}

function cpuRequested(pod: PodTemplate): string[] {
  const missing = asArray(pod.spec.containers)
    .filter(isRecord)
    .filter((container) => pathGet(container, 'resources.requests.cpu') === undefined)
    .map((container) => `container "${containerName(container)}"`);
  if (daprEnabled(pod) && !asString(annotationsOf(pod)['dapr.io/sidecar-cpu-request']))
    missing.push('the daprd sidecar (dapr.io/sidecar-cpu-request)');
  return missing;
}

function checkAutoscalers(objects: KubeObject[], out: Violation[]): void {
  for (const hpa of objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')) {
    const targetKind = asString(pathGet(hpa, 'spec.scaleTargetRef.kind'));
    const targetName = asString(pathGet(hpa, 'spec.scaleTargetRef.name'));
    const target = objects.find((object) => object.kind === targetKind && object.metadata.name === targetName);
    if (target === undefined) {
      out.push({
        rule: 'hpa-target',
        object: objectId(hpa),
        message: `scaleTargetRef ${targetKind ?? '?'}/${targetName ?? '?'} is not rendered`,
      });
      continue;
    }
    const pod = podTemplateOf(target);
    if (pod === undefined) {
      out.push({ rule: 'hpa-target', object: objectId(hpa), message: `${objectId(target)} has no pod template` });
      continue;
    }
    for (const what of cpuRequested(pod)) {
      out.push({
        rule: 'hpa-cpu-requests',
        object: objectId(hpa),
        message: `target ${objectId(target)}: ${what} has no CPU request, so CPU utilisation is undefined`,
      });
    }
    if (pathGet(target, 'spec.replicas') !== undefined) {
      out.push({
        rule: 'hpa-target',
        object: objectId(hpa),
        message: `target ${objectId(target)} sets spec.replicas, which fights the autoscaler on every upgrade`,
      });
    }
    if (pathGet(hpa, 'spec.behavior.scaleDown') === undefined) {
      out.push({ rule: 'hpa-behaviour', object: objectId(hpa), message: 'has no scaleDown behaviour' });
    }
  }
}

const DEAD_LETTER_SUFFIX = '.deadletter';

function checkSubscriptions(objects: KubeObject[], out: Violation[]): void {
  const subscriptions = objects.filter(
    (object) => object.kind === 'Subscription' && object.apiVersion.startsWith('dapr.io/'),
  );
  const key = (topic: string, scopes: unknown): string => `${topic}|${asArray(scopes).map(String).sort().join(',')}`;
  const present = new Set(
    subscriptions.map((subscription) => key(asString(pathGet(subscription, 'spec.topic')) ?? '', subscription.scopes)),
  );
  const pubsubs = new Map(
    objects
      .filter((object) => object.kind === 'Component' && String(pathGet(object, 'spec.type')).startsWith('pubsub.'))
      .map((component) => [component.metadata.name, asArray(component.scopes).map(String)]),
  );
  for (const subscription of subscriptions) {
    const topic = asString(pathGet(subscription, 'spec.topic')) ?? '';
    const pubsubName = asString(pathGet(subscription, 'spec.pubsubname')) ?? '';
    const componentScopes = pubsubs.get(pubsubName);
    if (componentScopes === undefined) {
      out.push({
        rule: 'subscription-pubsub',
        object: objectId(subscription),
        message: `pubsubname "${pubsubName}" is not a rendered pub/sub Component`,
      });
    } else if (componentScopes.length > 0) {
      for (const app of asArray(subscription.scopes)
        .map(String)
        .filter((scope) => !componentScopes.includes(scope))) {
        out.push({
          rule: 'subscription-pubsub',
          object: objectId(subscription),
          message: `app "${app}" is not in the scopes of Component/${pubsubName}`,
        });
      }
    }
    const deadLetter = asString(pathGet(subscription, 'spec.deadLetterTopic'));
    const route =
      asString(pathGet(subscription, 'spec.routes.default')) ?? asString(pathGet(subscription, 'spec.route'));
    const report = (rule: string, message: string): void => {
      out.push({ rule, object: objectId(subscription), message });
    };
    if (route !== `/events/${topic}`)
      report('subscription-route', `routes to ${route ?? '(nothing)'}, expected /events/${topic}`);
    if (asArray(subscription.scopes).length === 0)
      report('subscription-scopes', 'has no scopes, so every app would receive it');
    if (topic.endsWith(DEAD_LETTER_SUFFIX)) {
      // A dead-letter subscription must not dead-letter again (a loop); the broker's DLQ is its net.
      if (deadLetter !== undefined)
        report('subscription-dead-letter', `dead-letter subscription sets deadLetterTopic ${deadLetter}`);
      continue;
    }
    if (deadLetter === undefined) {
      report('subscription-dead-letter', `topic ${topic} has no deadLetterTopic`);
    } else if (deadLetter !== `${topic}${DEAD_LETTER_SUFFIX}`) {
      report('subscription-dead-letter', `deadLetterTopic ${deadLetter} should be ${topic}${DEAD_LETTER_SUFFIX}`);
    } else if (!present.has(key(deadLetter, subscription.scopes))) {
      report(
        'subscription-dead-letter',
        `nobody in its scopes consumes ${deadLetter}, so dead letters cannot be listed or replayed`,
      );
    }
  }
}

function appIds(objects: KubeObject[]): Map<string, KubeObject> {
  const ids = new Map<string, KubeObject>();
  for (const object of objects) {
    const pod = podTemplateOf(object);
    if (pod === undefined || !daprEnabled(pod)) continue;
    const appId = asString(annotationsOf(pod)['dapr.io/app-id']);
    if (appId !== undefined) ids.set(appId, object);
  }
  return ids;
}

function checkDaprWiring(objects: KubeObject[], out: Violation[]): void {
  const ids = appIds(objects);
  const configurations = objects.filter(
    (object) => object.kind === 'Configuration' && object.apiVersion.startsWith('dapr.io/'),
  );
  for (const configuration of configurations) {
    const acl = pathGet(configuration, 'spec.accessControl');
    if (!isRecord(acl)) {
      out.push({
        rule: 'access-control',
        object: objectId(configuration),
        message: 'has no accessControl (Dapr then allows every caller)',
      });
      continue;
    }
    if (acl.defaultAction !== 'deny')
      out.push({
        rule: 'access-control',
        object: objectId(configuration),
        message: `defaultAction is ${String(acl.defaultAction)}, expected deny`,
      });
    for (const policy of asArray(acl.policies).filter(isRecord)) {
      const appId = asString(policy.appId) ?? '';
      if (!ids.has(appId))
        out.push({
          rule: 'access-control-app-id',
          object: objectId(configuration),
          message: `policy for app id "${appId}", which no rendered workload has`,
        });
      if (policy.defaultAction !== 'deny')
        out.push({
          rule: 'access-control',
          object: objectId(configuration),
          message: `policy for "${appId}" has defaultAction ${String(policy.defaultAction)}, expected deny`,
        });
    }
  }
  for (const [appId, workload] of ids) {
    const pod = podTemplateOf(workload);
    const configName = pod === undefined ? undefined : asString(annotationsOf(pod)['dapr.io/config']);
    if (configName === undefined) {
      out.push({
        rule: 'dapr-config',
        object: objectId(workload),
        message: `app "${appId}" has no dapr.io/config annotation`,
      });
    } else if (!configurations.some((configuration) => configuration.metadata.name === configName)) {
      out.push({
        rule: 'dapr-config',
        object: objectId(workload),
        message: `dapr.io/config "${configName}" is not rendered`,
      });
    }
  }
  for (const object of objects.filter((candidate) => candidate.apiVersion.startsWith('dapr.io/'))) {
    for (const scope of asArray(object.scopes).map(String)) {
      if (!ids.has(scope))
        out.push({
          rule: 'dapr-scopes',
          object: objectId(object),
          message: `scope "${scope}" is not the app id of any rendered workload`,
        });
    }
  }
}

const SECRET_KEY = /(password|passwd|secret|token|api[-_]?key|private[-_]?key|credential)/i;
const SECRET_VALUE = [
  { pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i, what: 'a URL with embedded credentials' },
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a PEM private key' },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/, what: 'an AWS access key id' },
];

function checkConfigMaps(objects: KubeObject[], out: Violation[]): void {
  for (const configMap of objects.filter((object) => object.kind === 'ConfigMap')) {
    for (const [key, value] of Object.entries(asRecord(configMap.data))) {
      const text = String(value);
      if (SECRET_KEY.test(key) && text.trim() !== '') {
        out.push({
          rule: 'configmap-secrets',
          object: objectId(configMap),
          message: `key "${key}" looks like a secret; use a Secret`,
        });
      }
      for (const { pattern, what } of SECRET_VALUE) {
        if (pattern.test(text))
          out.push({ rule: 'configmap-secrets', object: objectId(configMap), message: `key "${key}" holds ${what}` });
      }
    }
  }
}

function matches(selector: Record<string, unknown>, labels: Record<string, unknown>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function checkSelectors(objects: KubeObject[], out: Violation[]): void {
  const podLabels = objects
    .filter((object) => LONG_RUNNING.has(object.kind))
    .map((object) => asRecord(podTemplateOf(object)?.metadata.labels));
  for (const object of objects) {
    const selector =
      object.kind === 'Service'
        ? asRecord(pathGet(object, 'spec.selector'))
        : object.kind === 'PodDisruptionBudget'
          ? asRecord(pathGet(object, 'spec.selector.matchLabels'))
          : undefined;
    if (selector === undefined) continue;
    if (!podLabels.some((labels) => matches(selector, labels))) {
      out.push({
        rule: 'selector-matches',
        object: objectId(object),
        message: `selector ${JSON.stringify(selector)} matches no rendered pod template`,
      });
    }
  }
}

function checkNetworkPolicies(objects: KubeObject[], out: Violation[]): void {
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
  if (policies.length === 0) return;
  const defaultDeny = policies.some((policy) => {
    const types = asArray(pathGet(policy, 'spec.policyTypes'));
    return (
      types.includes('Ingress') &&
      types.includes('Egress') &&
      pathGet(policy, 'spec.ingress') === undefined &&
      pathGet(policy, 'spec.egress') === undefined
    );
  });
  if (!defaultDeny)
    out.push({
      rule: 'network-default-deny',
      object: 'NetworkPolicy/*',
      message: 'no default-deny policy (ingress and egress, no rules)',
    });
  for (const policy of policies) {
    for (const rule of asArray(pathGet(policy, 'spec.egress')).filter(isRecord)) {
      if (rule.to === undefined || asArray(rule.to).length === 0) {
        out.push({
          rule: 'network-egress-anywhere',
          object: objectId(policy),
          message: 'an egress rule without `to` allows every destination',
        });
      }
    }
  }
}

/** Runs every policy over a rendered release; [] when all hold. */
export function checkPolicies(objects: KubeObject[]): Violation[] {
  const out: Violation[] = [];
  for (const object of objects) {
    const pod = podTemplateOf(object);
    if (pod === undefined) continue;
    checkResources(pod, out);
    checkProbes(pod, out);
    checkSecurityContext(pod, out);
    checkTmpVolume(pod, out);
    checkImages(pod, out);
  }
  checkAutoscalers(objects, out);
  checkSubscriptions(objects, out);
  checkDaprWiring(objects, out);
  checkConfigMaps(objects, out);
  checkSelectors(objects, out);
  checkNetworkPolicies(objects, out);
  return out;
}
