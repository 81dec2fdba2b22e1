import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createDatabase, dropDatabases, startPostgresServer } from './databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server URL (any database) on which tests may create databases. */
    serverUrl: string;
    /** A migrated database that each test file clones. */
    templateDatabase: string;
  }
}

/**
 * With TEST_DATABASE_URL unset, the run gets a throwaway embedded PostgreSQL; with it set, that
 * server is used. Either way one migrated template database is made, and each test clones it.
 */
export default async function setup(project: TestProject) {
  // Several tests run the compiled service (npm start, the image, the benchmark): compiled once here,
  // if a source changed, rather than by whichever test comes first while others read dist/.
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
  const server = await startPostgresServer(process.env.TEST_DATABASE_URL, 'vci-issuer-test-');
  const templateDatabase = `vci_template_${process.pid}_${Date.now()}`;
  await createDatabase(server.url, templateDatabase, { migrate: true });

  project.provide('serverUrl', server.url);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    // The template and every clone of it; an embedded server goes with its data anyway.
    if (!server.embedded) await dropDatabases(server.url, { prefix: templateDatabase });
    await server.stop();
  };
}
