import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `npm start` as a newcomer runs it: no DATABASE_URL, no keys, no secret; only a data directory and a port. */
async function start(dataDir: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited early: ${stdout}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ready && /vci-issuer is ready/.test(stdout)) break;
    if (Date.now() - started > 30_000) throw new Error(`not ready within 30 s: ${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, child, exited, output: () => stdout, readyAfterMs: Date.now() - started };
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'vci-issuer-start-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('npm start from a fresh clone (embedded PostgreSQL, no configuration)', () => {
  it('is ready within 30 s, prints an admin key once, stops with exit 0, and a second start keeps the data and the key', async () => {
    const first = await start(dataDir);
    expect(first.readyAfterMs).toBeLessThan(30_000);
    const key = /\n\s+(vci_[\w-]{43})\n/.exec(first.output())?.[1];
    expect(key, first.output()).toBeDefined();
    const created = await fetch(`${first.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ claims: { name: 'kept' } }),
    });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await start(dataDir);
    expect(second.output()).not.toMatch(/vci_[\w-]{43}/);
    expect(second.output()).toMatch(/admin API key printed on first start/);
    const user = await fetch(`${second.url}/v1/users/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(user.status).toBe(200);
    expect(await user.json()).toEqual({ id, claims: { name: 'kept' } });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
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
