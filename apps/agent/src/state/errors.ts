/**
 * The state directory (spool, credential, lock, local socket) cannot be used.
 * The CLI exits with code 4.
 */
export class StateDirError extends Error {
  override readonly name: string = 'StateDirError';
}
