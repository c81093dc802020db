import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's own Prometheus metrics, in a registry per app instance (tests run several). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly batchesStored = new Counter({
    name: 'tidewatch_server_ingest_batches_total',
    help: 'Batches received, by outcome (stored, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly recordsStored = new Counter({
    name: 'tidewatch_server_ingest_records_total',
    help: 'Window records stored (rows added across the raw tables)',
    registers: [this.registry],
  });

  readonly ingestLag = new Histogram({
    name: 'tidewatch_server_ingest_lag_seconds',
    help: 'From the end of a window to its commit in PostgreSQL',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });

  readonly writeDuration = new Histogram({
    name: 'tidewatch_server_db_write_seconds',
    help: 'Duration of one ingest transaction',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly queryDuration = new Histogram({
    name: 'tidewatch_server_db_query_seconds',
    help: 'Duration of API queries against PostgreSQL',
    labelNames: ['query'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly streams = new Gauge({
    name: 'tidewatch_server_ingest_streams',
    help: 'Open agent streams on this replica',
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'tidewatch_server_ingest_queue_batches',
    help: 'Batches waiting for the database',
    registers: [this.registry],
  });

  readonly batchesHeld = new Gauge({
    name: 'tidewatch_server_ingest_held_batches',
    help: 'Batches read from agent streams and not yet committed (bounded by INGEST_QUEUE_LIMIT)',
    registers: [this.registry],
  });

  readonly streamsWaiting = new Gauge({
    name: 'tidewatch_server_ingest_streams_waiting',
    help: 'Agent streams not read because INGEST_QUEUE_LIMIT batches are held',
    registers: [this.registry],
  });

  readonly liveSubscribers = new Gauge({
    name: 'tidewatch_server_live_subscribers',
    help: 'Open live-feed WebSocket connections',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tidewatch_server_' });
  }

  async timeQuery<T>(name: string, run: () => Promise<T>): Promise<T> {
    const end = this.queryDuration.startTimer({ query: name });
    try {
      return await run();
    } finally {
      end();
    }
  }
}
