import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webAppIsStale } from '../src/web-app';

describe('npm start builds the web app only when needed', () => {
  let root: string;
  const web = (...parts: string[]) => join(root, 'services', 'web', ...parts);
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'quizmesh-web-app-'));
    mkdirSync(web('src', 'pages'), { recursive: true });
    writeFileSync(web('src', 'pages', 'Quiz.tsx'), 'x');
    writeFileSync(web('index.html'), 'x');
    at(web('src', 'pages', 'Quiz.tsx'), 1_000);
    at(web('index.html'), 1_000);
    at(web('src', 'pages'), 1_000);
    at(web('src'), 1_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is stale without a build', () => {
    expect(webAppIsStale(root)).toBe(true);
  });

  it('is current when the build is newer than every source, and stale after a deep source changes', () => {
    mkdirSync(web('dist'));
    writeFileSync(web('dist', 'index.html'), 'built');
    at(web('dist', 'index.html'), 2_000);
    expect(webAppIsStale(root)).toBe(false);
    at(web('src', 'pages', 'Quiz.tsx'), 3_000);
    expect(webAppIsStale(root)).toBe(true);
  });
});
