import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createAppContext } from './context.js';
import { SecretKeys } from './crypto/secrets.js';
import { connectDatabase } from './db/database.js';
import { Invalidations } from './db/invalidation.js';

/** The OpenAPI document as the routes describe it. No database is contacted (pg pools connect lazily). */
export async function generateOpenApi(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://issuer.example.com' });
  const database = connectDatabase('postgres://openapi@127.0.0.1:1/none', 1);
  const context = createAppContext({ config, database, secrets: new SecretKeys('x'.repeat(32)), invalidations: new Invalidations(undefined) });
  const app = await buildApp(context, { logger: false });
  await app.ready();
  const document = JSON.stringify(app.swagger(), null, 2) + '\n';
  await app.close();
  await database.close();
  return document;
}
