import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools, toolsCacheDir } from '../src/tools';

describe('helm and kubectl from the lambda layer', () => {
  it('are cached per layer version under node_modules/.cache/quizmesh-tools', async () => {
    const tools = await ensureTools();
    expect(toolsCacheDir()).toMatch(/node_modules\/\.cache\/quizmesh-tools\/\d+\.\d+\.\d+$/);
    expect(tools.helm.startsWith(toolsCacheDir())).toBe(true);
    expect(execFileSync(tools.helm, ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v4\./);
    expect(execFileSync(tools.kubectl, ['version', '--client'], { encoding: 'utf8' })).toMatch(
      /Client Version: v1\.33\./,
    );
  });

  it('survive concurrent extraction into the same directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quizmesh-tools-'));
    const target = join(dir, 'tools');
    try {
      const results = await Promise.all([ensureTools(target), ensureTools(target)]);
      expect(results[0]).toEqual(results[1]);
      expect(execFileSync(results[0].helm, ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v4\./);
      // Staging directories are always cleaned up, by the winner and the loser.
      expect(readdirSync(dir)).toEqual(['tools']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
