import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { isRecord, objectId, type KubeObject } from './objects';

/**
 * Unknown-field detection for built-in objects. kubernetes-models' runtime validators check types
 * and required fields but accept any extra key, so `imagee:` or a mis-indented `resources:` would
 * pass. The package's .d.ts files describe every field, so the TypeScript checker walks the
 * object alongside its declared type and reports keys the type does not declare — what the API
 * server does under strict field validation (kubectl's default).
 */

// The package's "exports" map only exposes JS; its .d.ts files sit beside the root index.js.
const MODELS_DIR = dirname(createRequire(__filename).resolve('kubernetes-models'));

function declarationFile(...parts: string[]): string | undefined {
  const path = join(MODELS_DIR, ...parts);
  return existsSync(path) ? path : undefined;
}

interface Checker {
  program: ts.Program;
  checker: ts.TypeChecker;
  /** Declaration files of the kinds this program was built for. */
  roots: Set<string>;
}

let cached: Checker | undefined;

/**
 * A checker whose program holds the given kinds' declaration files (and what they import).
 * Rebuilt, with every kind seen so far, only when a new kind appears: building costs about a
 * second, so callers pass all objects at once (unknownFieldsOf).
 */
function checkerFor(kindFiles: string[]): Checker {
  if (cached !== undefined && kindFiles.every((file) => cached?.roots.has(file))) return cached;
  const roots = new Set([...(cached?.roots ?? []), ...kindFiles]);
  const program = ts.createProgram([...roots], {
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  cached = { program, checker: program.getTypeChecker(), roots };
  return cached;
}

/** The declared interface `I<Kind>` of kubernetes-models/<apiVersion>/<Kind>.d.ts. */
function rootType(state: Checker, path: string, kind: string): ts.Type | undefined {
  const source = state.program.getSourceFile(path);
  const moduleSymbol = source === undefined ? undefined : state.checker.getSymbolAtLocation(source);
  const exported =
    moduleSymbol === undefined
      ? undefined
      : state.checker.getExportsOfModule(moduleSymbol).find((symbol) => symbol.name === `I${kind}`);
  return exported === undefined ? undefined : state.checker.getDeclaredTypeOfSymbol(exported);
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const type = checker.getNonNullableType(declared);
  if (type.isUnion()) {
    // IntOrString, Quantity and friends are scalar unions; an object value picks the one object member.
    const objects = type.types.filter((member) => (member.flags & ts.TypeFlags.Object) !== 0);
    const [only] = objects;
    if (objects.length === 1 && only !== undefined && typeof value === 'object') walk(checker, value, only, path, out);
    return;
  }
  if (Array.isArray(value)) {
    if (!checker.isArrayType(type)) return;
    const [element] = checker.getTypeArguments(type as ts.TypeReference);
    if (element !== undefined) value.forEach((item, index) => walk(checker, item, element, `${path}[${index}]`, out));
    return;
  }
  if (!isRecord(value) || (type.flags & ts.TypeFlags.Object) === 0) return;
  const properties = checker.getPropertiesOfType(type);
  const [index] = checker.getIndexInfosOfType(type);
  if (properties.length === 0) {
    // A map ({ [key: string]: T }) checks its values; a type without properties accepts anything.
    if (index !== undefined)
      for (const [key, item] of Object.entries(value)) walk(checker, item, index.type, `${path}.${key}`, out);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const property = checker.getPropertyOfType(type, key);
    const where = path === '' ? key : `${path}.${key}`;
    if (property === undefined) {
      if (index === undefined) out.push(`${where}: unknown field`);
      continue;
    }
    walk(checker, item, checker.getTypeOfSymbol(property), where, out);
  }
}

/** "Kind/name: spec.x.y: unknown field" for every key an object's declared type lacks. */
export function unknownFieldsOf(objects: KubeObject[]): string[] {
  const files = objects.map((object) => declarationFile(object.apiVersion, `${object.kind}.d.ts`));
  const state = checkerFor(files.filter((file): file is string => file !== undefined));
  return objects.flatMap((object, index) => {
    const file = files[index];
    const root = file === undefined ? undefined : rootType(state, file, object.kind);
    if (root === undefined) return [`${objectId(object)}: no Kubernetes type for ${object.apiVersion} ${object.kind}`];
    const out: string[] = [];
    walk(state.checker, object, root, '', out);
    return out.map((message) => `${objectId(object)}: ${message}`);
  });
}
