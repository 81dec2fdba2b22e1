import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/net.js';
import { httpClient, type IssuerClient } from './client.js';

// Services as processes of their own, the way they run in production: for the tests that kill and
// restart them, and for the benchmark.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  url: string;
  port: number;
  pid: number;
  exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  /** The last 20 KB of stdout and stderr, for failure messages. */
  output(): string;
  /** Milliseconds from spawning to ready. */
  readyAfterMs: number;
  kill(signal: NodeJS.Signals): void;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) unless it already exited, and removes what it was given. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface SpawnOptions {
  /** Its whole environment besides PATH, HOME, HOST, PORT (and METRICS_PORT): nothing else of this process's leaks in. */
  env: Record<string, string>;
  /** Default: a free one. */
  port?: number;
  /** Ready once GET `readyPath` answers 200 ... */
  readyPath: string;
  /** ... and its output matches this. */
  readyOutput?: RegExp;
  readyWithinMs?: number;
  nodeArgs?: string[];
  /** The checkout to run it from; default this repository. */
  cwd?: string;
}

/**
 * A service of this repository, listening on 127.0.0.1: `entry`, a TypeScript entry point, run as
 * `node --import tsx <entry>`, or a command line as it is (`['npm', 'start']`); resolves once it is
 * ready. Without DATA_DIR in `env` it gets a temporary one, removed by stop(), so that nothing is
 * ever written to the repository's ./data.
 */
export async function spawnService(entry: string | string[], options: SpawnOptions): Promise<ServiceProcess> {
  const spawnedAt = Date.now();
  const port = options.port ?? (await freePort());
  const tempDir = options.env.DATA_DIR ? undefined : mkdtempSync(path.join(tmpdir(), 'vci-issuer-process-'));
  const removeTempDir = () => tempDir && rmSync(tempDir, { recursive: true, force: true });
  const [command, ...args] = typeof entry === 'string' ? [process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', entry] : entry;
  const label = typeof entry === 'string' ? entry : entry.join(' ');
  const child = spawn(command!, args, {
    cwd: options.cwd ?? ROOT,
    // METRICS_PORT: any free one unless `env` names one, so that services run side by side.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(tempDir && { DATA_DIR: tempDir }), METRICS_PORT: '0', ...options.env, HOST: '127.0.0.1', PORT: String(port) },
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
  const deadline = spawnedAt + (options.readyWithinMs ?? 60_000);
  for (;;) {
    if (exit) {
      removeTempDir();
      throw new Error(`${label} exited during start (${JSON.stringify(exit)}):\n${output}`);
    }
    const ready = await fetch(url + options.readyPath, { signal: AbortSignal.timeout(2000) }).then(
      async (response) => (await response.body?.cancel(), response.status === 200),
      () => false,
    );
    if (ready && (!options.readyOutput || options.readyOutput.test(output))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      removeTempDir();
      throw new Error(`${label} did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    pid: child.pid!,
    exited,
    exit: () => exit,
    output: () => output,
    readyAfterMs: Date.now() - spawnedAt,
    kill(signal) {
      if (!exit) process.kill(child.pid!, signal);
    },
    async stop(graceMs = 30_000) {
      if (!exit) {
        process.kill(child.pid!, 'SIGTERM');
        const timer = setTimeout(() => !exit && process.kill(child.pid!, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      removeTempDir();
      return exit!;
    },
  };
}

/** Whether a process of that id is running. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process id of the embedded PostgreSQL a service runs in `dataDir` (from its postmaster.pid). */
export const postmasterOf = (dataDir: string) => Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

export const PROCESS_SECRET = 'fault-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const PROCESS_ADMIN_KEY = 'fault-test-admin-key-0123456789-abcdefghijklmnop';
/** The Credential Issuer Identifier of every instance (they act as one issuer). */
export const PROCESS_PUBLIC_URL = 'https://issuer.example.com';

export interface IssuerProcess extends ServiceProcess {
  /**
   * A client over a connection pool of this process's own (after a restart on the same port no stale
   * socket is reused), as its ADMIN_API_KEY, with a 10 s deadline per request. Closed by stop().
   */
  readonly client: IssuerClient;
}

/**
 * The issuer as `npm start` runs it (`src/main.ts`) on the given database, with the settings of
 * PROCESS_SECRET, PROCESS_ADMIN_KEY and PROCESS_PUBLIC_URL unless `env` says otherwise; ready once
 * /health/ready answers 200.
 */
export async function spawnIssuer(options: {
  databaseUrl: string;
  port?: number;
  env?: Record<string, string>;
  nodeArgs?: string[];
  cwd?: string;
  /** Run the compiled service (`dist/main.js`, as `npm start` does) instead of the sources through tsx. */
  compiled?: boolean;
}): Promise<IssuerProcess> {
  const entry = options.compiled ? [process.execPath, ...(options.nodeArgs ?? []), 'dist/main.js'] : 'src/main.ts';
  const service = await spawnService(entry, {
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: options.databaseUrl,
      SECRET: PROCESS_SECRET,
      ADMIN_API_KEY: PROCESS_ADMIN_KEY,
      PUBLIC_URL: PROCESS_PUBLIC_URL,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
    },
    port: options.port,
    readyPath: '/health/ready',
    nodeArgs: options.nodeArgs,
    cwd: options.cwd,
  });
  const key = options.env?.ADMIN_API_KEY ?? PROCESS_ADMIN_KEY;
  let client: IssuerClient | undefined;
  return {
    ...service,
    get client() {
      return (client ??= httpClient(service.url, { key, connections: 256, timeoutMs: 10_000 }));
    },
    async stop(graceMs) {
      const exit = await service.stop(graceMs);
      await client?.close().catch(() => {});
      return exit;
    },
  };
}
