import { randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

// Ceiling 1: the floor for any endpoint that commits one row. A bare Fastify route (JSON in, JSON
// out) doing one INSERT of a row the size of an offer into a copy of the offers table.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
await pool.query('CREATE TABLE IF NOT EXISTS bench_ceiling_offers (LIKE offers INCLUDING ALL)');
const configurationId = randomUUID();
const app = Fastify({ logger: false });
app.get('/ready', async () => ({ ok: true }));
app.post('/insert', async (request, reply) => {
  const body = request.body as { claims?: Record<string, unknown> };
  const id = randomUUID();
  await pool.query({
    name: 'ceiling-insert',
    text: `INSERT INTO bench_ceiling_offers (id, code_hash, tx_code_hash, user_id, configuration_ids, claims, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, now() + interval '5 minutes')`,
    values: [id, randomBytes(32), randomBytes(32), randomUUID(), [configurationId], JSON.stringify(body.claims ?? {})],
  });
  return reply.status(201).send({ id });
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', async () => {
  await app.close();
  await pool.query('DROP TABLE IF EXISTS bench_ceiling_offers');
  await pool.end();
  process.exit(0);
});
