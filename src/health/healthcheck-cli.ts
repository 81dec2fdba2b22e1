import { ConfigError, loadConfig } from '../config.js';

// The image's HEALTHCHECK: exits 0 when the service in this container answers /health/ready with 200
// (database reachable and migrated), 1 otherwise. It asks over loopback unless HOST names one address.
try {
  const { host, port } = loadConfig();
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const response = await fetch(`http://${address}:${port}/health/ready`, { signal: AbortSignal.timeout(2500) });
  await response.body?.cancel();
  if (!response.ok) console.error(`/health/ready answered ${response.status}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `/health/ready did not answer: ${(error as Error).message}`);
  process.exit(1);
}
