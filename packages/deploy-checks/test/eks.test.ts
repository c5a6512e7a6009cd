import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/helm';
import { checkEcrAgainstSkaffold, ecrRepositories, skaffoldDefaultRepoImage, skaffoldPushes } from '../src/eks';

const TERRAFORM = join(REPO_ROOT, 'terraform');
const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

describe('EKS images: skaffold pushes what ECR accepts', () => {
  it('models skaffold’s default-repo rewriting for ECR', () => {
    // The documented example (skaffold.dev "Image Repository Handling") and ours.
    expect(
      skaffoldDefaultRepoImage('aws_account_id.dkr.ecr.region.amazonaws.com', 'gcr.io/k8s-skaffold/skaffold-example1'),
    ).toBe('aws_account_id.dkr.ecr.region.amazonaws.com/gcr_io_k8s-skaffold_skaffold-example1');
    expect(skaffoldDefaultRepoImage('1.dkr.ecr.eu-west-1.amazonaws.com', 'quizmesh/gateway')).toBe(
      '1.dkr.ecr.eu-west-1.amazonaws.com/quizmesh_gateway',
    );
  });

  it('creates one ECR repository for every image skaffold pushes, under the name skaffold pushes it as', async () => {
    const ecr = await ecrRepositories(TERRAFORM);
    expect(ecr.names).toEqual(expect.arrayContaining(['quizmesh_gateway', 'quizmesh_identity', 'quizmesh_quiz']));
    expect(checkEcrAgainstSkaffold(ecr, skaffoldPushes(REPO_ROOT))).toEqual([]);
  });

  it('keeps tags mutable where skaffold re-pushes them and immutable where only CI pushes', async () => {
    const ecr = await ecrRepositories(TERRAFORM);
    expect(ecr.mutability).toEqual({ dev: 'MUTABLE', prod: 'IMMUTABLE' });
    const [eks] = skaffoldPushes(REPO_ROOT);
    expect(eks).toMatchObject({ profile: 'eks', tagger: 'gitCommit', pinsDigests: true });
  });

  it('reports the old layout: nested repository names, immutable dev tags, tags without digests', async () => {
    const ecrMain = join(TERRAFORM, 'modules', 'ecr', 'main.tf');
    const devMain = join(TERRAFORM, 'environments', 'dev', 'main.tf');
    const overrides = new Map([
      [
        ecrMain,
        read('terraform/modules/ecr/main.tf').replace(
          '${var.repository_prefix}_${each.value}',
          '${var.repository_prefix}/${each.value}',
        ),
      ],
      [devMain, read('terraform/environments/dev/main.tf').replace('"MUTABLE"', '"IMMUTABLE"')],
    ]);
    const skaffold = read('skaffold.yaml').replace(/@\{\{\.IMAGE_DIGEST_quizmesh_[a-z]+\}\}/g, '');
    const errors = checkEcrAgainstSkaffold(
      await ecrRepositories(TERRAFORM, overrides),
      skaffoldPushes(REPO_ROOT, skaffold),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /pushes quizmesh\/gateway as <registry>\/quizmesh_gateway, but Terraform creates quizmesh\/gateway/,
        ),
        expect.stringMatching(/re-pushes tags such as <commit>-dirty, but ECR in dev is IMMUTABLE/),
        expect.stringMatching(/must get tag@digest/),
      ]),
    );
  });
});
