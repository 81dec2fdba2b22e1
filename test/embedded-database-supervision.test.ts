import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, postmasterOf, spawnService } from './support/processes.js';

// The embedded PostgreSQL (no DATABASE_URL) is part of the service: if it goes away, the service
// stops with a non-zero code (a supervisor then restarts both) rather than answering 503 for ever;
// and a server left running by a killed run is taken over, and stopped with the service.

const start = (dataDir: string) =>
  spawnService('src/main.ts', { env: { DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'test' }, readyPath: '/health/ready', readyWithinMs: 120_000 });

describe('the embedded PostgreSQL', () => {
  it('killed under the service: the service stops with exit code 1 and says why', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vci-issuer-supervision-'));
    const service = await start(dataDir);
    try {
      process.kill(postmasterOf(dataDir), 'SIGKILL');
      const exit = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
      expect(exit, service.output()).toEqual({ code: 1, signal: null });
      expect(service.output()).toMatch(/embedded PostgreSQL exited .*vci-issuer stops too/);
    } finally {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('left running by a killed service: the next start takes it over and stops it on SIGTERM, exit code 0', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vci-issuer-supervision-'));
    try {
      const first = await start(dataDir);
      const postmaster = postmasterOf(dataDir);
      first.kill('SIGKILL');
      await first.exited;
      expect(isAlive(postmaster)).toBe(true);

      const second = await start(dataDir);
      expect(postmasterOf(dataDir)).toBe(postmaster);
      expect(await second.stop()).toEqual({ code: 0, signal: null });
      expect(isAlive(postmaster)).toBe(false);
    } finally {
      try {
        process.kill(postmasterOf(dataDir), 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
