/** Bad input from the operator: file, environment or flags. The CLI exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
