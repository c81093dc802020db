// Prints the server's OpenAPI document (the one it serves at /api/docs-json) from the BUILT
// server, without a database: Nest's preview mode resolves the modules and routes but
// instantiates nothing, which is all Swagger needs. Build tooling, not console code.
'use strict';
const path = require('node:path');

const dist =
  process.env.TIDEWATCH_SERVER_DIST || path.resolve(__dirname, '..', '..', 'server', 'dist');
require(require.resolve('reflect-metadata', { paths: [dist] }));
const { NestFactory } = require(require.resolve('@nestjs/core', { paths: [dist] }));
const { SwaggerModule, DocumentBuilder } = require(
  require.resolve('@nestjs/swagger', { paths: [dist] }),
);

async function main() {
  const { AppModule } = require(path.join(dist, 'app.module.js'));
  const { configureHttp } = require(path.join(dist, 'server.js'));
  const { parseEnvironment } = require(path.join(dist, 'config', 'environment.js'));
  const { createDataSource } = require(path.join(dist, 'database', 'data-source.js'));
  const env = parseEnvironment({ DATABASE_URL: 'postgres://preview@127.0.0.1:1/openapi' });
  const app = await NestFactory.create(AppModule.forRoot(env, createDataSource(env.databaseUrl)), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  configureHttp(app);
  const doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('x').build());
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`openapi-spec: ${err.stack || err}\n`);
  process.exit(1);
});
