import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, postmasterOf, spawnService } from './support/processes.js';

describe('npm start', () => {
  it('runs the compiled service, and SIGTERM to the npm process stops it and its embedded PostgreSQL with exit code 0', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vci-issuer-npm-start-'));
    const npm = await spawnService(['npm', 'start'], { env: { DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, readyPath: '/health/ready', readyWithinMs: 150_000 }).catch(
      (error: unknown) => {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      },
    );
    try {
      const postmaster = postmasterOf(dataDir);
      expect(isAlive(postmaster)).toBe(true);

      npm.kill('SIGTERM');
      expect((await npm.exited).code, npm.output()).toBe(0);
      // The service (a direct child of npm: `exec node dist/main.js`) stopped the database before exiting.
      expect(isAlive(postmaster)).toBe(false);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(npm.output()).toContain('vci-issuer is ready');
    } finally {
      npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
