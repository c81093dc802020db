import { invalidArgument } from './errors';

/** IFNAMSIZ is 16 with the terminating NUL; names cannot hold '/', ':' or spaces. */
export function checkIfname(name: unknown): string {
  if (typeof name !== 'string' || !/^[^\s/:]{1,15}$/.test(name)) {
    invalidArgument('interface name', 'a Linux interface name of 1 to 15 characters', name);
  }
  return name;
}

/** An integer within [min, max], or undefined when optional and absent. */
export function checkInt(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalidArgument(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkBool(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') invalidArgument(name, 'true or false', value);
  return value;
}

export function checkOneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    invalidArgument(name, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}
