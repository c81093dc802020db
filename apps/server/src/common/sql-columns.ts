import { InvalidInputError } from './domain-errors';

/**
 * The SQL column a request's sort or grouping name stands for. Only the map's
 * own values ever reach SQL; a name outside it is a 400, never spliced.
 */
export function columnFor<K extends string>(
  columns: Readonly<Record<K, string>>,
  name: string,
  param: string,
): string {
  if (!Object.prototype.hasOwnProperty.call(columns, name)) {
    throw new InvalidInputError(`${param} must be one of ${Object.keys(columns).join(', ')}`);
  }
  return columns[name as K];
}
