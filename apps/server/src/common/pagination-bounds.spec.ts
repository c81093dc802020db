import 'reflect-metadata';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

// Every request DTO in src (files under dto/ or named *.query.ts / *.dto.ts) is loaded, and
// each `offset` / `limit` property it declares must be an integer with a minimum and a
// maximum: an unbounded page size or offset is a cheap way to make PostgreSQL work hard.

const SRC = path.resolve(__dirname, '..');

function dtoFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return dtoFiles(file);
    const isDto =
      /\.(query|dto)\.ts$/.test(name) || path.basename(dir) === 'dto' || dir.includes('/dto/');
    return isDto && name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [file] : [];
  });
}

type Ctor = new (...args: unknown[]) => unknown;

const classes: { file: string; cls: Ctor }[] = dtoFiles(SRC).flatMap((file) =>
  // The file list is only known at run time, so a static import cannot load it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  Object.values(require(file) as Record<string, unknown>)
    .filter((v): v is Ctor => typeof v === 'function' && /^[A-Z]/.test(v.name))
    .map((cls) => ({ file: path.relative(SRC, file), cls })),
);

function constraintsOf(cls: Ctor, property: string): Set<string> {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return new Set(
    metas
      .filter((m) => m.propertyName === property && m.type === ValidationTypes.CUSTOM_VALIDATION)
      .map((m) => m.name ?? ''),
  );
}

const paged = classes.flatMap(({ file, cls }) =>
  ['offset', 'limit']
    .filter((p) => {
      const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
      return metas.some((m) => m.propertyName === p);
    })
    .map((p) => ({ name: `${file} ${cls.name}.${p}`, cls, p })),
);

it('finds the paginated DTOs (hosts list and top N at least)', () => {
  const names = paged.map((x) => x.name);
  expect(names).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/ListHostsQuery\.offset$/),
      expect.stringMatching(/ListHostsQuery\.limit$/),
      expect.stringMatching(/TopQuery\.limit$/),
    ]),
  );
});

it.each(paged.map((x) => [x.name, x] as const))('%s is an integer with min and max', (_, x) => {
  const c = constraintsOf(x.cls, x.p);
  expect({ int: c.has('isInt'), min: c.has('min'), max: c.has('max') }).toEqual({
    int: true,
    min: true,
    max: true,
  });
});
