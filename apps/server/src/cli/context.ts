import { DataSource } from 'typeorm';
import { Environment, parseEnvironment } from '../config/environment';
import { createDataSource } from '../database/data-source';
import { assertSchemaCurrent, connectOrExplain } from '../database/schema-check';

/** Shared by the commands: the validated environment and a short-lived database connection. */
export interface CliContext {
  env(): Environment;
  out(line: string): void;
  err(line: string): void;
  /** Connects, optionally checks the schema, runs `fn`, always disconnects. */
  withDatabase<T>(
    fn: (ds: DataSource) => Promise<T>,
    opts?: { requireSchema?: boolean },
  ): Promise<T>;
}

export function defaultContext(
  overrides: Partial<Pick<CliContext, 'env' | 'out' | 'err'>> = {},
): CliContext {
  let env: Environment | null = null;
  const ctx: CliContext = {
    env: () => (env ??= parseEnvironment()),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    ...overrides,
    async withDatabase(fn, opts = { requireSchema: true }) {
      const e = ctx.env();
      const ds = await connectOrExplain(createDataSource(e.databaseUrl, 2), e.databaseUrl);
      try {
        if (opts.requireSchema !== false) await assertSchemaCurrent(ds);
        return await fn(ds);
      } finally {
        await ds.destroy();
      }
    },
  };
  return ctx;
}
