import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../src/helm';
import { checkEnvironment, checkProviderLock, checkTerraformModule, terraformDirs } from '../src/terraform';

const TERRAFORM = join(REPO_ROOT, 'terraform');
const dirs = terraformDirs(TERRAFORM);
const environments = dirs.filter((dir) => dir.includes(`${join('terraform', 'environments')}`));

describe('terraform', () => {
  it('has the required modules and environments', () => {
    expect(dirs.map((dir) => relative(TERRAFORM, dir))).toEqual(
      expect.arrayContaining([
        'modules/network',
        'modules/eks',
        'modules/postgres',
        'modules/redis',
        'modules/mq',
        'modules/ecr',
        'environments/dev',
        'environments/prod',
      ]),
    );
  });

  it.each(dirs.map((dir) => relative(TERRAFORM, dir)))(
    '%s parses and cross-references its variables, outputs and module calls',
    async (dir) => {
      expect(await checkTerraformModule(join(TERRAFORM, dir), REPO_ROOT)).toEqual([]);
    },
  );

  it.each(environments.map((dir) => relative(TERRAFORM, dir)))(
    '%s keeps state in S3 with locking and documents its variables',
    async (dir) => {
      expect(await checkEnvironment(join(TERRAFORM, dir), REPO_ROOT)).toEqual([]);
    },
  );

  it.each(environments.map((dir) => relative(TERRAFORM, dir)))(
    '%s pins every provider of its module tree (the EKS module’s too) and commits its lock file',
    async (dir) => {
      expect(await checkProviderLock(join(TERRAFORM, dir), REPO_ROOT)).toEqual([]);
    },
  );

  it('uses the same modules in every environment', () => {
    const sources = environments.map((dir) =>
      [...readFileSync(join(dir, 'main.tf'), 'utf8').matchAll(/source\s*=\s*"([^"]+)"/g)].map((match) => match[1]),
    );
    expect(new Set(sources.map((list) => JSON.stringify(list))).size).toBe(1);
  });
});

describe('terraform checks catch mutations', () => {
  const stack = join(TERRAFORM, 'modules', 'stack');
  const stackMain = join(stack, 'main.tf');
  const stackText = readFileSync(stackMain, 'utf8');

  async function errorsWith(path: string, text: string, dir = stack): Promise<string[]> {
    return checkTerraformModule(dir, REPO_ROOT, new Map([[path, text]]));
  }

  it('reports an undeclared argument, a missing required variable and a wrong output', async () => {
    const mutated = stackText
      .replace('  cidr               = var.vpc_cidr\n', '  cidr_block         = var.vpc_cidr\n')
      .replace('  subnet_group_name          = module.network.elasticache_subnet_group_name\n', '')
      .replace('module.eks.node_security_group_id]\n  instance_class', 'module.eks.node_sg_id]\n  instance_class');
    expect(await errorsWith(stackMain, mutated)).toEqual(
      expect.arrayContaining([
        'terraform/modules/stack: module "network": passes "cidr_block", which ../network does not declare',
        'terraform/modules/stack: module "redis": does not pass required variable "subnet_group_name" of ../redis',
        'terraform/modules/stack/main.tf: module.eks.node_sg_id is not an output of terraform/modules/eks',
      ]),
    );
  });

  it('reports an undeclared variable, local and resource, and an unpinned registry module', async () => {
    const network = join(TERRAFORM, 'modules', 'network', 'main.tf');
    const mutated = readFileSync(network, 'utf8')
      .replace('version = "5.21.0"', 'version = "~> 5.21"')
      .replace('single_nat_gateway     = var.single_nat_gateway', 'single_nat_gateway     = var.single_nat')
      .replace('azs  = local.azs', 'azs  = local.zones')
      .replace('tags = var.tags\n}', 'tags = merge(var.tags, { sg = aws_security_group.missing.id })\n}');
    expect(await errorsWith(network, mutated, join(TERRAFORM, 'modules', 'network'))).toEqual(
      expect.arrayContaining([
        'terraform/modules/network: module "vpc": registry source terraform-aws-modules/vpc/aws is not pinned to an exact version (~> 5.21)',
        'terraform/modules/network/main.tf: var.single_nat is not declared',
        'terraform/modules/network/main.tf: local.zones is not declared',
        'terraform/modules/network/main.tf: resource aws_security_group.missing is not declared',
      ]),
    );
  });

  it('reports a variable without description, a loose provider pin and a local-exec deployment', async () => {
    const ecr = join(TERRAFORM, 'modules', 'ecr');
    const variables = readFileSync(join(ecr, 'variables.tf'), 'utf8').replace(
      '  description = "Images kept per repository; older ones expire."\n',
      '',
    );
    const versions = readFileSync(join(ecr, 'versions.tf'), 'utf8').replace(
      'version = "5.100.0"',
      'version = ">= 5.0"',
    );
    const main = `${readFileSync(join(ecr, 'main.tf'), 'utf8')}\nresource "null_resource" "deploy" {\n  provisioner "local-exec" {\n    command = "helm upgrade --install quizmesh charts/quizmesh"\n  }\n}\n`;
    const errors = await checkTerraformModule(
      ecr,
      REPO_ROOT,
      new Map([
        [join(ecr, 'variables.tf'), variables],
        [join(ecr, 'versions.tf'), versions],
        [join(ecr, 'main.tf'), main],
      ]),
    );
    expect(errors).toEqual([
      'terraform/modules/ecr: variable "keep_images" has no description',
      'terraform/modules/ecr/main.tf: null_resource.deploy: no application deployment through null_resource',
      'terraform/modules/ecr/main.tf: null_resource.deploy: local-exec provisioner',
      'terraform/modules/ecr: provider aws is not pinned to an exact version (>= 5.0)',
    ]);
  });

  it('reports a syntax error with the file name', async () => {
    await expect(errorsWith(stackMain, `${stackText}\nmodule "broken" {\n`)).rejects.toThrow(/main\.tf/);
  });
});
