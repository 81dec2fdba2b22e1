import { sql } from 'kysely';
import { z } from 'zod';
import type { App } from '../context.js';
import { latestMigrationVersion } from '../db/migrate.js';
import { HttpError } from '../errors/http.js';
import { managementErrorSchema } from '../errors/render.js';

export async function healthRoutes(app: App) {
  const expectedVersion = await latestMigrationVersion();

  app.get(
    '/health/live',
    { config: { requestLogLevel: 'debug' }, schema: { tags: ['Health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { requestLogLevel: 'debug' },
      schema: {
        tags: ['Health'],
        summary: 'The database is reachable and fully migrated',
        response: { 200: z.object({ status: z.literal('ready') }), 503: managementErrorSchema },
      },
    },
    async () => {
      let applied: number;
      try {
        const { rows } = await sql<{ version: number | null }>`SELECT max(version) AS version FROM schema_migrations`.execute(app.ctx.db);
        applied = rows[0]?.version ?? 0;
      } catch {
        throw new HttpError(503, 'The database is unreachable');
      }
      if (applied < expectedVersion) throw new HttpError(503, `Database migrations are pending (at ${applied}, need ${expectedVersion})`);
      return { status: 'ready' as const };
    },
  );
}
