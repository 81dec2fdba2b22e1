import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch, type RequestInit } from 'undici';
import { freePort } from '../../src/net.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const PROCESS_SECRET = 'fault-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const PROCESS_ADMIN_KEY = 'fault-test-admin-key-0123456789-abcdefghijklmnop';
/** The Credential Issuer Identifier of every instance (they act as one issuer). */
export const PROCESS_PUBLIC_URL = 'https://issuer.example.com';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface IssuerProcess {
  url: string;
  port: number;
  pid: number;
  /** A connection pool of this process's own: after a restart on the same port no stale socket is reused. */
  fetch(path: string, init?: RequestInit): ReturnType<typeof fetch>;
  exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  /** The last 20 KB of stdout and stderr, for failure messages. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) unless it already exited. */
  stop(graceMs?: number): Promise<Exit>;
}

/**
 * `node --import tsx src/main.ts`, exactly as `npm start` runs it, on the given database, listening on
 * 127.0.0.1; resolves once /health/ready answers 200.
 */
export async function spawnIssuer(options: { databaseUrl: string; port?: number; env?: Record<string, string> }): Promise<IssuerProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vci-issuer-process-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: dataDir,
      SECRET: PROCESS_SECRET,
      ADMIN_API_KEY: PROCESS_ADMIN_KEY,
      PUBLIC_URL: PROCESS_PUBLIC_URL,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 256, pipelining: 1 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exit) rmSync(dataDir, { recursive: true, force: true });
    if (exit) throw new Error(`the issuer exited during start (${JSON.stringify(exit)}):\n${output}`);
    try {
      const response = await fetch(`${url}/health/ready`, { dispatcher: agent, signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`the issuer did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    pid: child.pid!,
    fetch: (requestPath, init) => fetch(url + requestPath, { dispatcher: agent, ...init }),
    exited,
    exit: () => exit,
    output: () => output,
    kill(signal) {
      if (!exit) process.kill(child.pid!, signal);
    },
    async stop(graceMs = 25_000) {
      if (!exit) {
        process.kill(child.pid!, 'SIGTERM');
        const timer = setTimeout(() => !exit && process.kill(child.pid!, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await agent.destroy().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      return exit!;
    },
  };
}
