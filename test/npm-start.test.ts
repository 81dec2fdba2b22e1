import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnService } from './support/processes.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

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
      const postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(alive(postmaster)).toBe(true);

      npm.kill('SIGTERM');
      expect((await npm.exited).code, npm.output()).toBe(0);
      // The service (a direct child of npm: `exec node dist/main.js`) stopped the database before exiting.
      expect(alive(postmaster)).toBe(false);
      expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(npm.output()).toContain('vci-issuer is ready');
    } finally {
      npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
