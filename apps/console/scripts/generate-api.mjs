// The one regeneration command for the console's API types (`npm run generate -w
// @tidewatch/console`, also the first step of `build`): the server's OpenAPI document, read from
// the built server (scripts/openapi-spec.cjs), turned into TypeScript by openapi-typescript.
// Output is build output (src/api/generated/, gitignored), never edited by hand.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '..', 'src', 'api', 'generated');
let spec;
try {
  spec = execFileSync(process.execPath, [path.join(here, 'openapi-spec.cjs')], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
} catch (err) {
  process.stderr.write(
    "generate-api: could not read the server's OpenAPI document. Build the server first " +
      '(`npm run build -w @tidewatch/server`).\n',
  );
  process.exit(err.status || 1);
}
const doc = JSON.parse(spec);
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'openapi.json'), JSON.stringify(doc, null, 2) + '\n');
const ast = await openapiTS(doc);
writeFileSync(
  path.join(out, 'schema.d.ts'),
  "// Generated from the server's OpenAPI document by scripts/generate-api.mjs. Do not edit.\n" +
    astToString(ast),
);
// Who may call what, as the server's @Roles declare it (x-roles, see openapi-spec.cjs): the
// console hides what a role may not do; the server refuses it anyway.
const routeRoles = {};
for (const [p, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    if (Array.isArray(op['x-roles'])) routeRoles[`${method.toUpperCase()} ${p}`] = op['x-roles'];
  }
}
writeFileSync(
  path.join(out, 'roles.ts'),
  "// Generated from the server's route declarations by scripts/generate-api.mjs. Do not edit.\n" +
    `export const ROUTE_ROLES = ${JSON.stringify(routeRoles, null, 2)} as const;\n` +
    `export const LIVE_ROLES = ${JSON.stringify(doc['x-live-roles'] ?? [])} as const;\n`,
);
process.stdout.write(
  `generate-api: ${Object.keys(doc.paths).length} paths -> src/api/generated/schema.d.ts\n`,
);
