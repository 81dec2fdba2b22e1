import { register } from 'node:module';

/**
 * Whether the standard OpenTelemetry variables ask for traces: an OTLP endpoint, or a traces exporter
 * other than `none`; OTEL_SDK_DISABLED=true wins over both.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK, configured by the OTEL_* variables (exporter, endpoint, protocol,
 * sampler, resource): a span for each HTTP request (@fastify/otel, with its hooks and handler) and one
 * for each database statement (instrumentation-pg). Must run before the server's modules are imported:
 * pg is patched as it loads. Nothing of OpenTelemetry is loaded unless this is called.
 */
export async function startTracing(): Promise<Tracing> {
  // pg is imported from ES modules: only a loader hook sees it load. Limited to pg so that no other module is wrapped.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['pg'] } });
  const [{ NodeSDK }, { PgInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-pg'),
    import('@fastify/otel'),
  ]);
  const sdk = new NodeSDK({
    ...(!process.env.OTEL_SERVICE_NAME && { serviceName: 'vci-issuer' }),
    instrumentations: [
      new FastifyOtelInstrumentation({ registerOnInitialization: true }),
      // Statement text only, never its parameters (codes, hashes, claims).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: false }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
