/** The chart's CRD template: the generated CRD, kept on uninstall (docs/decisions/0800). */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { quizCrd } from './crd';

export const CRD_TEMPLATE_PATH = join(
  __dirname,
  '..',
  '..',
  '..',
  'charts',
  'quizmesh',
  'templates',
  'crd-quizzes.yaml',
);

export function crdTemplate(): string {
  const crd = quizCrd();
  const withPolicy = {
    ...crd,
    metadata: {
      ...crd.metadata,
      // helm uninstall must not delete every Quiz resource with the CRD.
      annotations: { 'helm.sh/resource-policy': 'keep' },
      labels: { 'app.kubernetes.io/part-of': 'quizmesh', 'app.kubernetes.io/component': 'operator' },
    },
  };
  return [
    '# Generated from packages/contracts/src/quiz-resource.ts by `npm run crd -w @quizmesh/operator`; do not edit.',
    '# Templated (not crds/) so upgrades update it and `helm template` shows it; kept on uninstall.',
    '{{- if has "operator" (include "quizmesh.enabledServices" . | fromYamlArray) }}',
    stringify(withPolicy, { lineWidth: 0 }).trimEnd(),
    '{{- end }}',
    '',
  ].join('\n');
}
