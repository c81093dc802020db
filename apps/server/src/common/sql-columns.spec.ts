import { InvalidInputError } from './domain-errors';
import { columnFor } from './sql-columns';

describe('columnFor', () => {
  const COLUMNS = { lastSeen: 'last_seen_at', hostname: 'hostname' } as const;

  it('maps a known name to its column', () => {
    expect(columnFor(COLUMNS, 'lastSeen', 'sort')).toBe('last_seen_at');
  });

  it.each(['hostname; DROP TABLE hosts', 'toString', '__proto__', 'constructor', ''])(
    'refuses %j instead of splicing it',
    (name) => {
      expect(() => columnFor(COLUMNS, name, 'sort')).toThrow(InvalidInputError);
      expect(() => columnFor(COLUMNS, name, 'sort')).toThrow(
        'sort must be one of lastSeen, hostname',
      );
    },
  );
});
