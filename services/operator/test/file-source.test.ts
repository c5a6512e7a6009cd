/** The file source behaves like the API server to the reconciler (generation, finalizers, deletion). */
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { QUIZ_RESOURCE } from '@quizmesh/contracts/quiz-resource';
import { FileQuizSource } from '../src/file-source';
import { ConflictError } from '../src/source';

const quiz = (name: string, title: string) =>
  `apiVersion: quizmesh.io/v1alpha1\nkind: Quiz\nmetadata:\n  name: ${name}\nspec:\n  title: ${title}\n`;

describe('FileQuizSource', () => {
  let dir: string;
  let source: FileQuizSource;
  const changed: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qm-file-source-'));
    writeFileSync(join(dir, 'a.yaml'), `${quiz('alpha', 'One')}---\n${quiz('beta', 'Two')}`);
    writeFileSync(join(dir, 'notes.txt'), 'not yaml, ignored');
    source = new FileQuizSource({ dir, logger: pino({ level: 'silent' }), pollMs: 60_000 });
    changed.length = 0;
    await source.start((key) => changed.push(key));
  });
  afterEach(async () => {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every Quiz document of every YAML file as default/<name>, generation 1', () => {
    expect(source.keys().sort()).toEqual(['default/alpha', 'default/beta']);
    expect(source.get('default/alpha')?.metadata.generation).toBe(1);
    expect(source.synced()).toBe(true);
  });

  it('bumps the generation only when the spec changes', () => {
    source.scan();
    expect(source.get('default/alpha')?.metadata.generation).toBe(1);
    writeFileSync(join(dir, 'a.yaml'), `${quiz('alpha', 'One, revised')}---\n${quiz('beta', 'Two')}`);
    changed.length = 0;
    source.scan();
    expect(source.get('default/alpha')?.metadata.generation).toBe(2);
    expect(changed).toEqual(['default/alpha']);
  });

  it('does not read an unchanged file again, and reads one whose modification time changed', () => {
    const parsesAtStart = source.parses;
    source.scan();
    source.scan();
    expect(source.parses).toBe(parsesAtStart);
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, 'a.yaml'), later, later);
    source.scan();
    expect(source.parses).toBe(parsesAtStart + 1);
    expect(source.get('default/alpha')?.metadata.generation).toBe(1); // same spec: no new generation
  });

  it('sees a rewrite of the same size (a new modification time)', () => {
    writeFileSync(join(dir, 'a.yaml'), `${quiz('alpha', 'Uno')}---\n${quiz('beta', 'Two')}`);
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, 'a.yaml'), later, later);
    source.scan();
    expect(source.get('default/alpha')?.spec).toEqual({ title: 'Uno' });
    expect(source.get('default/alpha')?.metadata.generation).toBe(2);
  });

  it('keeps the last good version of a file that does not parse, and reports it', () => {
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: [unclosed');
    source.scan();
    expect(source.keys().sort()).toEqual(['default/alpha', 'default/beta']);
    expect([...source.problems.keys()]).toEqual([join(dir, 'a.yaml')]);
  });

  it('refuses a write based on an old resourceVersion (409), as the API server', async () => {
    const stale = source.get('default/alpha');
    if (!stale) throw new Error('no alpha');
    await source.setFinalizers(stale, [QUIZ_RESOURCE.finalizer]);
    await expect(source.updateStatus(stale, {})).rejects.toBeInstanceOf(ConflictError);
  });

  it('a removed file is a deletion that waits for the finalizer', async () => {
    const alpha = source.get('default/alpha');
    if (!alpha) throw new Error('no alpha');
    const held = await source.setFinalizers(alpha, [QUIZ_RESOURCE.finalizer]);
    unlinkSync(join(dir, 'a.yaml'));
    source.scan();
    expect(source.get('default/beta')).toBeUndefined(); // no finalizer: gone at once
    const deleting = source.get('default/alpha');
    expect(deleting?.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(deleting?.metadata.resourceVersion).not.toBe(held.metadata.resourceVersion);
    await source.setFinalizers(deleting ?? held, []);
    expect(source.get('default/alpha')).toBeUndefined();
  });
});
