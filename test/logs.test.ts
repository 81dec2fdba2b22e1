import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/net.js';
import { CONFIGURATIONS, OFFERS } from './support/client.js';
import { createTestDatabase, startTestIssuer, type TestIssuer } from './support/issuer.js';
import { PROCESS_SECRET } from './support/processes.js';

// What the issuer writes: JSON lines for a collector, readable lines for a person at a terminal, the
// one-time admin key only where a person sees it, and each refused request with its code and reason.

interface Run {
  stdout: string;
  stderr: string;
  exitCode?: number | null;
}

/**
 * `npm start`'s entry point with stdout and stderr apart (pipes, as under a supervisor), on a fresh
 * database without an admin key, until it is ready; then stopped.
 */
async function runOnce(env: Record<string, string>): Promise<Run> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vci-issuer-logs-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATABASE_URL: database.url, SECRET: PROCESS_SECRET, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.ok, () => false);
      if (ready && /is ready at/.test(run.stderr)) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${run.stdout}\n${run.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    child.kill('SIGTERM');
    run.exitCode = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  }
  return run;
}

describe('log format', () => {
  it('is JSON lines when stdout is not a terminal; the admin key banner goes to stderr, never into them', async () => {
    const { stdout, stderr, exitCode } = await runOnce({});
    expect(exitCode).toBe(0);
    const key = /created \(it is shown only this once; keep it\):\s+(\S+)/.exec(stderr)?.[1];
    expect(key, stderr).toMatch(/^vci_/);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.map((line) => JSON.parse(line).msg)).toContain('vci-issuer is listening');
    expect(stdout).not.toContain(key);
    expect(stdout).not.toContain('shown only this once');
  });

  it('is human-readable with LOG_FORMAT=pretty, whatever stdout is', async () => {
    const { stdout, exitCode } = await runOnce({ LOG_FORMAT: 'pretty' });
    expect(stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*: vci-issuer is listening$/m);
    // Stopping flushes the readable stream too, and exits 0.
    expect(stdout).toMatch(/INFO.*: shutting down$/m);
    expect(exitCode).toBe(0);
    for (const line of stdout.trim().split('\n')) expect(() => JSON.parse(line)).toThrow();
  });

  it('LOG_FORMAT=json keeps JSON, and anything else is refused naming the setting', async () => {
    const { stdout } = await runOnce({ LOG_FORMAT: 'json' });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ service: 'vci-issuer' });
    const { loadConfig } = await import('../src/config.js');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(/^Invalid configuration: LOG_FORMAT/);
  });
});

describe('request log lines', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer({ logLevel: 'debug' });
  });
  afterAll(() => issuer.close());

  const lineOf = (requestId: string) => issuer.logs.map((line) => JSON.parse(line)).find((entry) => entry.reqId === requestId && entry.msg === 'request completed');

  it('a refused request is logged with the code it was answered with and a reason, never what it sent', async () => {
    const code = 'pre-authorized-code-that-does-not-exist-0123456789';
    const token = await issuer.client.requestToken({ 'pre-authorized_code': code });
    expect(token.statusCode).toBe(400);
    expect(lineOf(String(token.headers['x-request-id']))).toMatchObject({ statusCode: 400, code: 'invalid_grant', reason: 'Unknown pre-authorized code', level: 30 });

    const invalid = await issuer.client.post(OFFERS, { credentials: 'not-a-list', claims: { secretClaim: 'Quillfeather-claim-value' } });
    expect(invalid.statusCode).toBe(400);
    const logged = lineOf(String(invalid.headers['x-request-id']));
    expect(logged).toMatchObject({ statusCode: 400, code: 'BadRequest', reason: expect.stringMatching(/^Validation Error: body\.credentials: /) });

    const unauthorized = await issuer.client.get(CONFIGURATIONS, 'vci_not-a-real-key-0123456789abcdef');
    expect(unauthorized.statusCode).toBe(401);
    expect(lineOf(String(unauthorized.headers['x-request-id']))).toMatchObject({ code: 'Unauthorized', reason: expect.any(String) });

    const all = issuer.logs.join('\n');
    for (const sent of [code, 'Quillfeather-claim-value', 'vci_not-a-real-key-0123456789abcdef']) expect(all).not.toContain(sent);
  });

  it('a successful request has no code or reason; health checks are logged at debug', async () => {
    const ok = await issuer.client.get(CONFIGURATIONS);
    expect(ok.statusCode).toBe(200);
    const line = lineOf(String(ok.headers['x-request-id']));
    expect(line).toMatchObject({ statusCode: 200, level: 30 });
    expect(line).not.toHaveProperty('code');
    expect(line).not.toHaveProperty('reason');

    for (const url of ['/health/live', '/health/ready']) {
      const health = await issuer.app.inject({ url });
      expect(health.statusCode).toBe(200);
      expect(lineOf(String(health.headers['x-request-id']))).toMatchObject({ url, level: 20 });
    }
  });
});
