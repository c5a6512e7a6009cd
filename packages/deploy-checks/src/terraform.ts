import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

// Loaded untyped on purpose: the package's .d.ts pulls in lib "dom", which would change the
// types of fetch/Buffer for the whole workspace's type-check.
const { parse } = createRequire(__filename)('@cdktf/hcl2json') as {
  parse: (filename: string, contents: string) => Promise<Record<string, unknown>>;
};
import { asArray, asRecord, asString, isRecord, type JsonRecord } from './objects';

/** What one Terraform directory (a root or child module) declares and references. */
export interface TerraformModule {
  dir: string;
  files: string[];
  variables: Map<string, { required: boolean; hasType: boolean; hasDescription: boolean }>;
  outputs: Set<string>;
  locals: Set<string>;
  resources: Set<string>;
  data: Set<string>;
  moduleCalls: Map<string, JsonRecord>;
  /** Every `${...}` expression string, with the file it came from. */
  expressions: { file: string; text: string }[];
  terraformBlocks: JsonRecord[];
  resourceBlocks: { file: string; type: string; name: string; body: JsonRecord }[];
}

const EXACT_VERSION = /^\d+\.\d+\.\d+$/;
const META_ARGUMENTS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);
// Resource types of the providers this repository uses; `<type>.<name>` in an expression must be declared.
const RESOURCE_REFERENCE =
  /(?<![\w.])((?:aws|random|tls|null|local|time|kubernetes|helm)_[a-z0-9_]+)\.([A-Za-z0-9_-]+)/g;
const NAMED_REFERENCE = /(?<![\w.])(var|local|module|data)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?/g;

function collectExpressions(value: unknown, file: string, out: { file: string; text: string }[]): void {
  if (typeof value === 'string') {
    if (value.includes('${')) out.push({ file, text: value });
  } else if (Array.isArray(value)) {
    for (const item of value) collectExpressions(item, file, out);
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('${')) out.push({ file, text: key });
      collectExpressions(item, file, out);
    }
  }
}

/** One .tf (or .tfvars / .terraform.lock.hcl) file as hcl2json's JSON. */
export async function parseHcl(path: string, contents: string): Promise<JsonRecord> {
  return asRecord(await parse(path, contents));
}

/** First block of a `name = [ {...} ]` list as hcl2json emits it. */
function firstBlock(value: unknown): JsonRecord {
  return asRecord(asArray(value)[0]);
}

/** Parses every *.tf of one directory (contents may be overridden, for mutation tests). */
export async function loadTerraformModule(
  dir: string,
  overrides: Map<string, string> = new Map(),
): Promise<TerraformModule> {
  const module: TerraformModule = {
    dir,
    files: [],
    variables: new Map(),
    outputs: new Set(),
    locals: new Set(),
    resources: new Set(),
    data: new Set(),
    moduleCalls: new Map(),
    expressions: [],
    terraformBlocks: [],
    resourceBlocks: [],
  };
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith('.tf'))
    .sort()) {
    const path = join(dir, name);
    module.files.push(path);
    const parsed: unknown = await parse(path, overrides.get(path) ?? readFileSync(path, 'utf8'));
    const document = asRecord(parsed);
    for (const [variable, blocks] of Object.entries(asRecord(document.variable))) {
      const block = firstBlock(blocks);
      module.variables.set(variable, {
        required: !('default' in block),
        hasType: 'type' in block,
        hasDescription: typeof block.description === 'string' && block.description !== '',
      });
    }
    for (const output of Object.keys(asRecord(document.output))) module.outputs.add(output);
    for (const block of asArray(document.locals))
      for (const local of Object.keys(asRecord(block))) module.locals.add(local);
    for (const [type, byName] of Object.entries(asRecord(document.resource))) {
      for (const [resourceName, blocks] of Object.entries(asRecord(byName))) {
        module.resources.add(`${type}.${resourceName}`);
        module.resourceBlocks.push({ file: path, type, name: resourceName, body: firstBlock(blocks) });
      }
    }
    for (const [type, byName] of Object.entries(asRecord(document.data)))
      for (const dataName of Object.keys(asRecord(byName))) module.data.add(`${type}.${dataName}`);
    for (const [call, blocks] of Object.entries(asRecord(document.module)))
      module.moduleCalls.set(call, firstBlock(blocks));
    module.terraformBlocks.push(...asArray(document.terraform).filter(isRecord));
    // Descriptions are prose; everything else may hold expressions.
    collectExpressions(
      {
        ...document,
        variable: Object.fromEntries(
          Object.entries(asRecord(document.variable)).map(([key, blocks]) => [
            key,
            { ...firstBlock(blocks), description: '' },
          ]),
        ),
      },
      path,
      module.expressions,
    );
  }
  return module;
}

function isLocalSource(source: string): boolean {
  return source.startsWith('./') || source.startsWith('../');
}

/** Every problem of one module, with its cross-references to the local modules it calls. */
export async function checkTerraformModule(
  dir: string,
  repoRoot: string,
  overrides: Map<string, string> = new Map(),
): Promise<string[]> {
  const module = await loadTerraformModule(dir, overrides);
  const where = (file: string): string => relative(repoRoot, file);
  const errors: string[] = [];
  const children = new Map<string, TerraformModule>();
  for (const [call, body] of module.moduleCalls) {
    const source = asString(body.source) ?? '';
    const at = `${relative(repoRoot, dir)}: module "${call}"`;
    if (isLocalSource(source)) {
      const childDir = resolve(dir, source);
      if (!existsSync(childDir) || !statSync(childDir).isDirectory()) {
        errors.push(`${at}: source ${source} does not exist`);
        continue;
      }
      const child = await loadTerraformModule(childDir, overrides);
      children.set(call, child);
      for (const argument of Object.keys(body).filter((key) => !META_ARGUMENTS.has(key))) {
        if (!child.variables.has(argument))
          errors.push(`${at}: passes "${argument}", which ${source} does not declare`);
      }
      for (const [variable, info] of child.variables) {
        if (info.required && !(variable in body))
          errors.push(`${at}: does not pass required variable "${variable}" of ${source}`);
      }
    } else {
      const version = asString(body.version);
      if (version === undefined || !EXACT_VERSION.test(version))
        errors.push(`${at}: registry source ${source} is not pinned to an exact version (${version ?? 'none'})`);
    }
  }
  for (const { file, text } of module.expressions) {
    for (const match of text.matchAll(NAMED_REFERENCE)) {
      const [, kind, name = '', attribute] = match;
      if (kind === 'var' && !module.variables.has(name)) errors.push(`${where(file)}: var.${name} is not declared`);
      if (kind === 'local' && !module.locals.has(name)) errors.push(`${where(file)}: local.${name} is not declared`);
      if (kind === 'data' && attribute !== undefined && !module.data.has(`${name}.${attribute}`))
        errors.push(`${where(file)}: data.${name}.${attribute} is not declared`);
      if (kind === 'module') {
        if (!module.moduleCalls.has(name)) errors.push(`${where(file)}: module.${name} is not declared`);
        const child = children.get(name);
        if (child !== undefined && attribute !== undefined && !child.outputs.has(attribute))
          errors.push(
            `${where(file)}: module.${name}.${attribute} is not an output of ${relative(repoRoot, child.dir)}`,
          );
      }
    }
    for (const match of text.matchAll(RESOURCE_REFERENCE)) {
      const reference = `${match[1] ?? ''}.${match[2] ?? ''}`;
      if (!module.resources.has(reference)) errors.push(`${where(file)}: resource ${reference} is not declared`);
    }
  }
  for (const [variable, info] of module.variables) {
    if (!info.hasType) errors.push(`${relative(repoRoot, dir)}: variable "${variable}" has no type`);
    if (!info.hasDescription) errors.push(`${relative(repoRoot, dir)}: variable "${variable}" has no description`);
  }
  for (const block of module.resourceBlocks) {
    if (block.type === 'null_resource' || block.type === 'terraform_data')
      errors.push(`${where(block.file)}: ${block.type}.${block.name}: no application deployment through ${block.type}`);
    // hcl2json emits labelled blocks as a map (provisioner "local-exec" -> { "local-exec": [...] }).
    const provisioners = [block.body.provisioner, ...asArray(block.body.provisioner)].filter(isRecord);
    if (provisioners.some((provisioner) => 'local-exec' in provisioner))
      errors.push(`${where(block.file)}: ${block.type}.${block.name}: local-exec provisioner`);
  }
  for (const block of module.terraformBlocks) {
    for (const providers of asArray(block.required_providers)) {
      for (const [provider, requirement] of Object.entries(asRecord(providers))) {
        const version = asString(pathVersion(requirement));
        if (version === undefined || !EXACT_VERSION.test(version))
          errors.push(
            `${relative(repoRoot, dir)}: provider ${provider} is not pinned to an exact version (${version ?? 'none'})`,
          );
      }
    }
  }
  return errors;
}

function pathVersion(requirement: unknown): unknown {
  return isRecord(requirement) ? requirement.version : undefined;
}

/** Checks a root module's S3 backend (encrypted, locking) and its tfvars example. */
export async function checkEnvironment(dir: string, repoRoot: string): Promise<string[]> {
  const module = await loadTerraformModule(dir);
  const at = relative(repoRoot, dir);
  const errors: string[] = [];
  const s3 = module.terraformBlocks
    .map((block) => firstBlock(asRecord(block.backend).s3))
    .find((backend) => Object.keys(backend).length > 0);
  if (s3 === undefined) errors.push(`${at}: no backend "s3"`);
  else {
    if (s3.use_lockfile !== true) errors.push(`${at}: backend "s3" does not lock (use_lockfile = true)`);
    if (s3.encrypt !== true) errors.push(`${at}: backend "s3" does not encrypt the state`);
  }
  const example = join(dir, 'terraform.tfvars.example');
  if (!existsSync(example)) errors.push(`${at}: terraform.tfvars.example is missing`);
  else {
    const assigned = asRecord(await parse(example, readFileSync(example, 'utf8')));
    for (const variable of Object.keys(assigned))
      if (!module.variables.has(variable)) errors.push(`${at}/terraform.tfvars.example: ${variable} is not a variable`);
    for (const [variable, info] of module.variables)
      if (info.required && !(variable in assigned))
        errors.push(`${at}/terraform.tfvars.example: required ${variable} is missing`);
  }
  return errors;
}

/** Directories below `root` that hold *.tf files. */
export function terraformDirs(root: string): string[] {
  const dirs = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === '.terraform') continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.tf')) dirs.add(dirname(path));
    }
  };
  walk(root);
  return [...dirs].sort();
}

/**
 * Providers each pinned registry module requires, from its versions.tf files at that tag (the
 * module's root and the submodules it calls). A module not listed here fails the check, so a
 * bump has to look at its providers again.
 */
export const REGISTRY_MODULE_PROVIDERS: Record<string, string[]> = {
  // terraform-aws-eks v20.37.2: versions.tf (aws, tls, time), modules/_user_data (cloudinit, null)
  'terraform-aws-modules/eks/aws@20.37.2': ['aws', 'cloudinit', 'null', 'time', 'tls'],
  'terraform-aws-modules/vpc/aws@5.21.0': ['aws'],
};

const ZH_HASH = /^zh:[0-9a-f]{64}$/;
const H1_HASH = /^h1:[A-Za-z0-9+/]{43}=$/;

/**
 * A root module pins, with an exact version, every provider its module tree needs (its own
 * modules' and the registry modules'), and its .terraform.lock.hcl records exactly those
 * versions with the registry's hashes.
 */
export async function checkProviderLock(dir: string, repoRoot: string): Promise<string[]> {
  const at = relative(repoRoot, dir);
  const errors: string[] = [];
  const needed = new Map<string, string>(); // provider -> who needs it
  const visit = async (moduleDir: string): Promise<void> => {
    const module = await loadTerraformModule(moduleDir);
    for (const block of module.terraformBlocks)
      for (const providers of asArray(block.required_providers))
        for (const provider of Object.keys(asRecord(providers)))
          if (!needed.has(provider)) needed.set(provider, relative(repoRoot, moduleDir));
    for (const [call, body] of module.moduleCalls) {
      const source = asString(body.source) ?? '';
      if (isLocalSource(source)) await visit(resolve(moduleDir, source));
      else {
        const key = `${source}@${asString(body.version) ?? '?'}`;
        const providers = REGISTRY_MODULE_PROVIDERS[key];
        if (providers === undefined)
          errors.push(`${at}: module "${call}" (${key}): its providers are not listed in REGISTRY_MODULE_PROVIDERS`);
        for (const provider of providers ?? []) if (!needed.has(provider)) needed.set(provider, key);
      }
    }
  };
  await visit(dir);

  const root = await loadTerraformModule(dir);
  const pinned = new Map<string, string>();
  for (const block of root.terraformBlocks)
    for (const providers of asArray(block.required_providers))
      for (const [provider, requirement] of Object.entries(asRecord(providers)))
        pinned.set(provider, asString(pathVersion(requirement)) ?? '');
  for (const [provider, by] of needed)
    if (!pinned.has(provider))
      errors.push(`${at}: provider ${provider} (needed by ${by}) is not pinned in required_providers`);

  const lockPath = join(dir, '.terraform.lock.hcl');
  if (!existsSync(lockPath)) return [...errors, `${at}: .terraform.lock.hcl is not committed`];
  const lock = asRecord((await parseHcl(lockPath, readFileSync(lockPath, 'utf8'))).provider);
  const locked = new Map(
    Object.entries(lock).map(([address, blocks]) => [
      address.replace('registry.terraform.io/hashicorp/', ''),
      firstBlock(blocks),
    ]),
  );
  for (const [provider, version] of pinned) {
    const entry = locked.get(provider);
    if (entry === undefined) {
      errors.push(`${at}/.terraform.lock.hcl: no entry for ${provider}`);
      continue;
    }
    if (entry.version !== version)
      errors.push(`${at}/.terraform.lock.hcl: ${provider} is locked at ${String(entry.version)}, pinned at ${version}`);
    const hashes = asArray(entry.hashes).map(String);
    if (!hashes.some((hash) => ZH_HASH.test(hash)))
      errors.push(`${at}/.terraform.lock.hcl: ${provider} has no zh: (registry checksum) hashes`);
    const malformed = hashes.filter((hash) => !ZH_HASH.test(hash) && !H1_HASH.test(hash));
    if (malformed.length > 0)
      errors.push(`${at}/.terraform.lock.hcl: ${provider}: malformed hashes ${malformed.join(', ')}`);
  }
  for (const provider of locked.keys())
    if (!pinned.has(provider)) errors.push(`${at}/.terraform.lock.hcl: ${provider} is locked but not required`);
  return errors;
}
