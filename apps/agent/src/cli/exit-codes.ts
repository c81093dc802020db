/** Exit codes of every command (documented in the README). */
export const EXIT = {
  /** Done; for `run`, stopped by SIGTERM/SIGINT after flushing and detaching. */
  OK: 0,
  /** Unexpected internal error (a bug: please report with the log). */
  INTERNAL: 1,
  /** Bad input: config file, environment, flags, unknown interface. */
  CONFIG: 2,
  /** The kernel side cannot run: missing capability or kernel feature (see `doctor`). */
  KERNEL: 3,
  /** The state directory or spool cannot be used (unwritable, disk full), or another agent process holds its lock. */
  STATE: 4,
  /** An address to listen on (--metrics-listen) is in use or not allowed. */
  LISTEN: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
