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
  annotateRoles(app, doc);
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

/**
 * Each operation gets `x-roles`: the roles its handler declares with @Roles (the server's one
 * source of who may do what), read from Nest's own metadata, so the console hides exactly what
 * the server refuses. `x-live-roles` on the document: who may open the live feed.
 */
function annotateRoles(app, doc) {
  const { PATH_METADATA, METHOD_METADATA } = require(
    require.resolve('@nestjs/common/constants', { paths: [dist] }),
  );
  const { RequestMethod } = require(require.resolve('@nestjs/common', { paths: [dist] }));
  const { ROLES_KEY } = require(path.join(dist, 'auth', 'roles.decorator.js'));
  const { IS_PUBLIC } = require(path.join(dist, 'auth', 'public.decorator.js'));
  const { LIVE_ROLES } = require(path.join(dist, 'auth', 'live-rooms.js'));
  const trim = (s) => String(s ?? '').replace(/^\/+|\/+$/g, '');
  for (const mod of app.container.getModules().values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype;
      if (!cls || !cls.prototype) continue;
      const base = [Reflect.getMetadata(PATH_METADATA, cls)].flat()[0] ?? '';
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = cls.prototype[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const sub = Reflect.getMetadata(PATH_METADATA, handler);
        if (sub === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler)].toLowerCase();
        const roles =
          Reflect.getMetadata(ROLES_KEY, handler) ?? Reflect.getMetadata(ROLES_KEY, cls);
        const isPublic =
          Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, cls) ?? false;
        for (const p of [sub].flat()) {
          const full = ['api/v1', trim(base), trim(p)].filter(Boolean).join('/');
          const key = '/' + full.replace(/:(\w+)/g, '{$1}');
          const op = doc.paths[key]?.[method];
          if (op) op['x-roles'] = isPublic ? 'public' : (roles ?? []);
        }
      }
    }
  }
  doc['x-live-roles'] = [...LIVE_ROLES];
}

main().catch((err) => {
  process.stderr.write(`openapi-spec: ${err.stack || err}\n`);
  process.exit(1);
});
