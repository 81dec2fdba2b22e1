import { ConfigError, loadConfig } from '../config.js';
import { connectDatabase } from './database.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrate } from './migrate.js';

// `npm run migrate`: applies migrations to DATABASE_URL, or to the embedded database under DATA_DIR.
try {
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
  const database = connectDatabase(config.databaseUrl ?? embedded!.url, 1);
  try {
    const applied = await migrate(database.pool);
    console.log(applied.length ? `Applied ${applied.join(', ')}` : 'Database is up to date');
  } finally {
    await database.close();
    await embedded?.stop();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Migration failed: ${(error as Error).message}`);
  process.exit(1);
}
