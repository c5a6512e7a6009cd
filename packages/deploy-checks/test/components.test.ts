import { join } from 'node:path';
import { REPO_ROOT } from '../src/helm';
import { isDaprResource, validateDaprResource } from '../src/dapr-schema';
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
