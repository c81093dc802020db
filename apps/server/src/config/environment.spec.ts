import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
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
      reportRetentionDays: 400,
      grpcMaxMessageBytes: 4 * 1024 * 1024,
      fleetRollupIntervalSeconds: 30,
      fleetRollupGraceSeconds: 60,
    });
  });

  it('takes TLS files in pairs, and a client CA only with them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-env-'));
    const pem = (name: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
      return f;
    };
    const [cert, key, ca] = [pem('s.crt'), pem('s.key'), pem('ca.crt')];
    try {
      expect(parseEnvironment({ DATABASE_URL: URL }).grpcTls).toBeNull();
      expect(
        parseEnvironment({
          DATABASE_URL: URL,
          GRPC_TLS_CERT: cert,
          GRPC_TLS_KEY: key,
          GRPC_TLS_CLIENT_CA: ca,
        }).grpcTls,
      ).toEqual({ certFile: cert, keyFile: key, clientCaFile: ca, clientCertRequired: true });
      expect(
        parseEnvironment({
          DATABASE_URL: URL,
          GRPC_TLS_CERT: cert,
          GRPC_TLS_KEY: key,
          GRPC_TLS_CLIENT_CA: ca,
          GRPC_TLS_CLIENT_CERT_REQUIRED: 'false',
        }).grpcTls?.clientCertRequired,
      ).toBe(false);
      expect(() =>
        parseEnvironment({
          DATABASE_URL: URL,
          GRPC_TLS_CERT: cert,
          GRPC_TLS_KEY: key,
          GRPC_TLS_CLIENT_CERT_REQUIRED: 'true',
        }),
      ).toThrow(/GRPC_TLS_CLIENT_CERT_REQUIRED needs GRPC_TLS_CLIENT_CA/);
      expect(() => parseEnvironment({ DATABASE_URL: URL, GRPC_TLS_CERT: cert })).toThrow(
        /GRPC_TLS_CERT and GRPC_TLS_KEY must be set together/,
      );
      expect(() => parseEnvironment({ DATABASE_URL: URL, GRPC_TLS_CLIENT_CA: ca })).toThrow(
        /GRPC_TLS_CLIENT_CA needs GRPC_TLS_CERT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{}, /DATABASE_URL is required/],
    [{ DATABASE_URL: 'mysql://x/y' }, /must start with postgres/],
    [{ DATABASE_URL: URL, HTTP_PORT: '80a' }, /HTTP_PORT must be an integer/],
    [{ DATABASE_URL: URL, GRPC_PORT: '70000' }, /GRPC_PORT must be between 0 and 65535/],
    [{ DATABASE_URL: URL, MIGRATE_ON_START: 'maybe' }, /MIGRATE_ON_START must be true or false/],
    [{ DATABASE_URL: URL, RETENTION_RAW_DAYS: '40' }, /retention must not shrink/],
    [{ DATABASE_URL: URL, LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [
      { DATABASE_URL: URL, REPORT_RETENTION_DAYS: '179' },
      /REPORT_RETENTION_DAYS must be at least 180/,
    ],
    [
      { DATABASE_URL: URL, REPORT_RETENTION_DAYS: '1y' },
      /REPORT_RETENTION_DAYS must be an integer/,
    ],
    [{ DATABASE_URL: URL, GRPC_TLS_CERT: '/nonexistent/server.crt' }, /GRPC_TLS_CERT: cannot read/],
    [
      { DATABASE_URL: URL, GRPC_TLS_KEY: path.join(__dirname, '..', '..', 'package.json') },
      /GRPC_TLS_KEY: .* is not PEM/,
    ],
  ])('refuses %j', (src, message) => {
    expect(() => parseEnvironment(src)).toThrow(EnvironmentError);
    expect(() => parseEnvironment(src)).toThrow(message);
  });
});
