import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/helm';
import { parse } from 'yaml';
import {
  checkEcrAgainstSkaffold,
  ecrRepositories,
  secretRecoveryWindows,
  skaffoldDefaultRepoImage,
  skaffoldPushes,
} from '../src/eks';
import { asArray, asRecord, pathGet } from '../src/objects';
import { parseHcl, terraformDirs } from '../src/terraform';

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

describe('EKS storage: the Dapr scheduler volume can bind on a fresh cluster', () => {
  it('installs the EBS CSI add-on with an IRSA role for its controller, and puts the scheduler on gp2', async () => {
    const eks = await parseHcl(join(TERRAFORM, 'modules', 'eks', 'main.tf'), read('terraform/modules/eks/main.tf'));
    const addons = asRecord(pathGet(asArray(pathGet(eks, 'module.eks'))[0], 'cluster_addons'));
    const role = /^\$\{aws_iam_role\.([a-z_]+)\.arn\}$/.exec(
      String(pathGet(addons['aws-ebs-csi-driver'], 'service_account_role_arn')),
    )?.[1];
    expect(role).toBeDefined();
    const text = read('terraform/modules/eks/main.tf');
    expect(text).toContain(`resource "aws_iam_role" "${role ?? ''}"`);
    expect(text).toContain('"system:serviceaccount:kube-system:ebs-csi-controller-sa"');
    expect(text).toMatch(
      /role\s+= aws_iam_role\.ebs_csi\.name\n\s+policy_arn = ".*policy\/service-role\/AmazonEBSCSIDriverPolicy"/,
    );

    // The eks profile's Dapr release names the class the add-on serves (no class is default on EKS >= 1.30).
    const eksProfile = asArray(pathGet(parse(read('skaffold.yaml')), 'profiles')).find(
      (profile) => pathGet(profile, 'name') === 'eks',
    );
    const dapr = asArray(pathGet(eksProfile, 'deploy.helm.releases')).find(
      (release) => pathGet(release, 'name') === 'dapr',
    );
    expect(asRecord(pathGet(dapr, 'setValues'))['dapr_scheduler.cluster.storageClassName']).toBe('gp2');
  });
});

describe('Secrets Manager: dev can be destroyed and applied again the same week', () => {
  it('deletes dev secrets without a recovery window and keeps 30 days in prod', async () => {
    const dev = await secretRecoveryWindows(TERRAFORM, 'dev');
    expect(Object.keys(dev).sort()).toEqual(['mq/rabbitmq', 'postgres/service_database', 'redis/redis']);
    expect(Object.values(dev)).toEqual([0, 0, 0]);
    expect(Object.values(await secretRecoveryWindows(TERRAFORM, 'prod'))).toEqual([30, 30, 30]);
  });
});

describe('IAM roles for service accounts: only for ServiceAccounts that use them', () => {
  it('trusts no ServiceAccount but the EBS CSI controller (the app pods read no AWS secrets)', () => {
    const trusted = terraformDirs(TERRAFORM).flatMap((dir) =>
      readdirSync(dir)
        .filter((file) => file.endsWith('.tf'))
        .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/"system:serviceaccount:([^"]+)"/g)])
        .map((match) => match[1]),
    );
    expect(trusted).toEqual(['kube-system:ebs-csi-controller-sa']);
  });
});
