import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseManifests, type KubeObject } from './objects';

/** Every *.yaml / *.yml file below `dir`, recursively (none when `dir` does not exist). */
export function findYamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...findYamlFiles(path));
    else if (/\.ya?ml$/.test(entry)) files.push(path);
  }
  return files;
}

export interface SourcedObject {
  file: string;
  object: KubeObject;
}

/** Kubernetes-style objects in the YAML files below `dir`, with the file they came from (relative to `base`). */
export function loadObjects(dir: string, base: string): SourcedObject[] {
  return findYamlFiles(dir).flatMap((file) => {
    const name = relative(base, file);
    return parseManifests(readFileSync(file, 'utf8'), name).map((object) => ({ file: name, object }));
  });
}
