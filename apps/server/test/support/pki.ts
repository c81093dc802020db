import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A throwaway PKI made with the openssl CLI in a temp dir (P-256 keys, one-day certificates). */
export class TestPki {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tw-pki-'));

  private run(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  read(name: string): Buffer {
    return readFileSync(this.file(name));
  }

  /** A self-signed CA: `<name>.crt`, `<name>.key`. */
  ca(name: string): void {
    this.run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ]);
  }

  /** A leaf certificate signed by `ca`, with the given subject CN and extensions. */
  leaf(name: string, ca: string, cn: string, extensions: string[]): void {
    this.run([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    writeFileSync(this.file(`${name}.ext`), `${extensions.join('\n')}\n`);
    this.run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
