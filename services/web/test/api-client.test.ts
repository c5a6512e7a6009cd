/**
 * The generated client types must be those of the document the gateway serves. The generator runs
 * in its own process (openapi-typescript loads ES modules that jest's CommonJS runtime cannot).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const webDir = join(__dirname, '..');
const schemaPath = join(webDir, 'src', 'api', 'generated', 'schema.ts');
const check = () =>
  run(process.execPath, ['--conditions=@quizmesh/source', '--import', 'tsx', 'scripts/generate-api.ts', '--check'], {
    cwd: webDir,
  });

describe('generated API client', () => {
  it("matches the gateway's OpenAPI document (else: npm run generate:api -w @quizmesh/web)", async () => {
    await expect(check()).resolves.toMatchObject({ stdout: expect.stringContaining('current') });
  });

  it('is reported stale when it differs from the document', async () => {
    const backup = `${schemaPath}.test-backup`;
    copyFileSync(schemaPath, backup);
    try {
      writeFileSync(schemaPath, readFileSync(schemaPath, 'utf8').replace('"/api/v1/quizzes"', '"/api/v1/quizes"'));
      await expect(check()).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('is stale') });
    } finally {
      copyFileSync(backup, schemaPath);
      rmSync(backup);
    }
  });
});
