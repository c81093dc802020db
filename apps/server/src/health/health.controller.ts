import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../auth/public.decorator';
import { IngestGrpcServer } from '../ingest/ingest-grpc.server';
import { MetricsService } from './metrics.service';

interface StatusResponse {
  status(code: number): { json(body: unknown): void };
}

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly ingest: IngestGrpcServer,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is alive' })
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and the gRPC ingest listens. */
  @Get('readyz')
  @ApiOkResponse({ description: 'Ready to ingest and serve; 503 otherwise' })
  async readyz(@Res() res: StatusResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let db = 'ok';
    try {
      await this.metrics.timeQuery('ping', () => this.ds.query('SELECT 1'));
    } catch (err) {
      db = `unreachable: ${(err as Error).message}`;
    }
    const dbLatencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const grpc = this.ingest.listening ? 'ok' : 'not listening';
    const ready = db === 'ok' && grpc === 'ok';
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', db, dbLatencyMs, grpc });
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
