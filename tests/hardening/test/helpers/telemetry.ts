// What the observability middleware write, captured for the secret and pollution cases: log lines
// of a pino-style logger, finished spans of a real tracer provider, and a fresh Prometheus registry.
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import type { Guard } from './guard.js';

/** The sinks of one case; the provider is shut down after the test. */
export interface Telemetry {
  /** Every log line as `msg {json}`. */
  lines: string[];
  /** A logger with all four levels writing to `lines`. */
  logger: { debug: Sink; info: Sink; warn: Sink; error: Sink };
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  registry: Registry;
}

type Sink = (obj: object, msg: string) => void;

export function captureTelemetry(guard: Guard): Telemetry {
  const lines: string[] = [];
  const sink: Sink = (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  guard.defer(() => provider.shutdown());
  return {
    lines,
    logger: { debug: sink, info: sink, warn: sink, error: sink },
    exporter,
    provider,
    registry: new Registry(),
  };
}
