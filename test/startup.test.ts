import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { USERS, httpClient } from './support/client.js';
import { spawnService } from './support/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `npm start` as a newcomer runs it: no DATABASE_URL, no keys, no secret; only a data directory and a port. */
const start = (dataDir: string) =>
  spawnService('src/main.ts', { env: { DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, readyPath: '/health/ready', readyOutput: /vci-issuer is ready/, readyWithinMs: 30_000 });

const dataDir = await mkdtemp(path.join(tmpdir(), 'vci-issuer-start-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('npm start from a fresh clone (embedded PostgreSQL, no configuration)', () => {
  it('is ready within 30 s, prints an admin key once, stops with exit 0, and a second start keeps the data and the key', async () => {
    const first = await start(dataDir);
    expect(first.readyAfterMs).toBeLessThan(30_000);
    const key = /\n\s+(vci_[\w-]{43})\n/.exec(first.output())?.[1];
    expect(key, first.output()).toBeDefined();
    const firstClient = httpClient(first.url, { key });
    const { id } = await firstClient.createUser({ name: 'kept' });
    await firstClient.close();
    first.kill('SIGINT');
    expect((await first.exited).code).toBe(0);

    const second = await start(dataDir);
    expect(second.output()).not.toMatch(/vci_[\w-]{43}/);
    expect(second.output()).toMatch(/admin API key printed on first start/);
    const secondClient = httpClient(second.url, { key });
    const user = await secondClient.get(`${USERS}/${id}`);
    await secondClient.close();
    expect(user.statusCode).toBe(200);
    expect(user.json()).toEqual({ id, claims: { name: 'kept' } });
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('NODE_ENV=production without SECRET exits non-zero naming SECRET', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATA_DIR: dataDir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/^Invalid configuration: SECRET /m);
  });
});
