import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { Environment } from './config/environment';
import { createDataSource } from './database/data-source';
import { runMigrations } from './database/migrate';
import { assertSchemaCurrent, connectOrExplain } from './database/schema-check';
import { IngestGrpcServer } from './ingest/ingest-grpc.server';
import { BoundedWsAdapter, LiveLimits } from './live/bounded-ws-adapter';
import { createLogger, PinoNestLogger } from './logging/logger';

export interface RunningServer {
  app: INestApplication;
  httpPort: number;
  grpcPort: number;
  close(): Promise<void>;
}

const DEFAULT_LIVE_LIMITS: LiveLimits = { maxPayloadBytes: 4096, maxConnections: 1000 };

/** Applies the HTTP conventions every route shares (also used by tests that build the app). */
export function configureHttp(app: INestApplication, live: LiveLimits = DEFAULT_LIVE_LIMITS): void {
  app.setGlobalPrefix('api/v1', { exclude: ['healthz', 'readyz', 'metrics'] });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useWebSocketAdapter(new BoundedWsAdapter(app, live));
  const doc = new DocumentBuilder()
    .setTitle('Tidewatch API')
    .setDescription('Fleet traffic, hosts and health. Counters are exact decimal strings.')
    .setVersion('1')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc));
}

/**
 * Connects (failing fast with a clear message), migrates or checks the
 * schema, then starts HTTP (REST, WebSocket) and the gRPC ingest.
 */
export async function startServer(
  env: Environment,
  logger: Logger = createLogger(env.logLevel),
): Promise<RunningServer> {
  const ds = createDataSource(env.databaseUrl, env.dbPoolSize);
  await connectOrExplain(ds, env.databaseUrl);
  try {
    if (env.migrateOnStart) {
      const ran = await runMigrations(ds);
      if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
    }
    await assertSchemaCurrent(ds);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  // A module that fails to start (e.g. no audit signing key) must not leave the pool open.
  const app = await NestFactory.create(AppModule.forRoot(env, ds), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    // HTTPS (REST, WebSocket, /metrics) from the PEM files checked at boot.
    httpsOptions: env.httpTls
      ? { cert: readFileSync(env.httpTls.certFile), key: readFileSync(env.httpTls.keyFile) }
      : undefined,
  }).catch(async (err: unknown) => {
    await ds.destroy();
    throw err;
  });
  configureHttp(app, {
    maxPayloadBytes: env.liveMaxPayloadBytes,
    maxConnections: env.liveMaxConnections,
  });
  await app.listen(env.httpPort, env.httpHost).catch(async (err: unknown) => {
    await app.close().catch(() => undefined);
    await ds.destroy().catch(() => undefined);
    throw err;
  });
  const httpPort = (app.getHttpServer().address() as AddressInfo).port;
  const grpcPort = app.get(IngestGrpcServer).port;
  const scheme = env.httpTls ? 'https' : 'http';
  logger.info(
    { event: 'listening', httpHost: env.httpHost, httpPort, scheme, grpcPort },
    `tidewatch-server listening: ${scheme} ${env.httpHost}:${httpPort}, grpc ${grpcPort}`,
  );
  let closing: Promise<void> | null = null;
  return {
    app,
    httpPort,
    grpcPort,
    close: () => (closing ??= app.close()),
  };
}
