/**
 * The one error class of @tidewatch/bpf. Argument checks, addon failures and
 * missing builds all surface as a TidewatchBpfError with a `code` (an errno
 * name like "ENODEV", or "EINVAL" for a bad argument) and, for kernel
 * failures, the `errno` number.
 */
export class TidewatchBpfError extends Error {
  readonly code: string;
  readonly errno?: number;

  constructor(message: string, code: string, errno?: number) {
    super(message);
    this.name = 'TidewatchBpfError';
    this.code = code;
    this.errno = errno;
  }
}

/** Throws EINVAL with a sentence naming the argument and what it must be. */
export function invalidArgument(name: string, must: string, got: unknown): never {
  throw new TidewatchBpfError(
    `invalid ${name}: must be ${must}, got ${JSON.stringify(got)}`,
    'EINVAL',
  );
}

/** Re-throws an error from the addon as a TidewatchBpfError, keeping errno/code. */
export function fromNative(err: unknown): TidewatchBpfError {
  if (err instanceof TidewatchBpfError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; errno?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'EIO';
    const errno = typeof e.errno === 'number' ? e.errno : undefined;
    return new TidewatchBpfError(err.message, code, errno);
  }
  return new TidewatchBpfError(String(err), 'EIO');
}

/** Awaits a native promise, converting its rejection. */
export async function native<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw fromNative(err);
  }
}

/** Runs a synchronous native call, converting what it throws. */
export function nativeSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err);
  }
}
