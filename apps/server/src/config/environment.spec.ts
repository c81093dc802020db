import { EnvironmentError, parseEnvironment } from './environment';

const URL = 'postgres://postgres@127.0.0.1:5432/tidewatch';

describe('parseEnvironment', () => {
  it('applies the documented defaults', () => {
    const env = parseEnvironment({ DATABASE_URL: URL });
    expect(env).toMatchObject({
      databaseUrl: URL,
      httpPort: 8080,
      grpcPort: 50051,
      migrateOnStart: true,
      retentionRawDays: 7,
      retention1mDays: 35,
      retention1hDays: 400,
      grpcMaxMessageBytes: 4 * 1024 * 1024,
    });
  });

  it.each([
    [{}, /DATABASE_URL is required/],
    [{ DATABASE_URL: 'mysql://x/y' }, /must start with postgres/],
    [{ DATABASE_URL: URL, HTTP_PORT: '80a' }, /HTTP_PORT must be an integer/],
    [{ DATABASE_URL: URL, GRPC_PORT: '70000' }, /GRPC_PORT must be between 0 and 65535/],
    [{ DATABASE_URL: URL, MIGRATE_ON_START: 'maybe' }, /MIGRATE_ON_START must be true or false/],
    [{ DATABASE_URL: URL, RETENTION_RAW_DAYS: '40' }, /retention must not shrink/],
    [{ DATABASE_URL: URL, LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('refuses %j', (src, message) => {
    expect(() => parseEnvironment(src)).toThrow(EnvironmentError);
    expect(() => parseEnvironment(src)).toThrow(message);
  });
});
