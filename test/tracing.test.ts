import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGURATIONS } from './support/client.js';
import { createTestDatabase } from './support/issuer.js';
import { PROCESS_ADMIN_KEY, spawnIssuer, type IssuerProcess } from './support/processes.js';

// The issuer as `npm start` runs it, with the standard OTEL_* variables pointing at a small OTLP/HTTP
// receiver (JSON encoding) on 127.0.0.1 that keeps every span it is sent.

interface ReceivedSpan {
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

const spans: ReceivedSpan[] = [];
let receiver: Server;
let issuer: IssuerProcess;
let dropDatabase: () => Promise<void>;

const attributeValue = (value: Record<string, unknown>) => value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { scope: { name: string }; spans: (Omit<ReceivedSpan, 'scope' | 'attributes'> & { attributes?: { key: string; value: Record<string, unknown> }[] })[] }[] }[] };
        for (const resource of payload.resourceSpans) {
          for (const scoped of resource.scopeSpans) {
            for (const span of scoped.spans) {
              spans.push({ ...span, scope: scoped.scope.name, attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, attributeValue(value)])) });
            }
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const database = await createTestDatabase();
  dropDatabase = () => database.drop();
  issuer = await spawnIssuer({
    databaseUrl: database.url,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    },
  });
});
afterAll(async () => {
  await issuer?.stop();
  await dropDatabase?.();
  receiver?.close();
});

describe('OpenTelemetry tracing, switched on by OTEL_* variables', () => {
  it('sends a span for each HTTP request and, inside it, one for each database statement, without statement parameters', async () => {
    const name = `traced-${Date.now()}`;
    const created = await issuer.client.post(CONFIGURATIONS, { type: `https://credentials.example.com/${name}`, claimMappings: {} }, PROCESS_ADMIN_KEY);
    expect(created.statusCode).toBe(201);

    const deadline = Date.now() + 15_000;
    const requestSpan = () => spans.find((span) => span.scope === '@fastify/otel' && span.attributes['http.route'] === CONFIGURATIONS && span.attributes['http.request.method'] === 'POST');
    while (Date.now() < deadline && !(requestSpan() && spans.some((span) => span.traceId === requestSpan()!.traceId && span.scope.includes('pg')))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const request = requestSpan();
    expect(request, JSON.stringify(spans.map((s) => [s.scope, s.name]))).toBeDefined();
    const statements = spans.filter((span) => span.traceId === request!.traceId && span.scope === '@opentelemetry/instrumentation-pg');
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.every((span) => span.parentSpanId)).toBe(true);
    expect(statements.some((span) => /INSERT/i.test(String(span.attributes['db.statement'] ?? span.attributes['db.query.text'] ?? span.name)))).toBe(true);
    // The statement text, never its values: the type sent is a parameter.
    for (const span of statements) expect(JSON.stringify(span)).not.toContain(name);
  });
});
