import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TestPki } from './pki';

export const SLAPD = '/usr/sbin/slapd';
export const SUFFIX = 'dc=tidewatch,dc=test';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
const ROOT_PW = 'root-secret';

/**
 * Why the LDAP tests cannot run here, or null when they can. Under CI=true a
 * missing slapd is a failure, never a skip (tools/setup.sh installs it).
 */
export function slapdMissing(): string | null {
  const missing = [SLAPD, '/usr/bin/ldapadd', '/usr/bin/ldapmodify'].filter((f) => !existsSync(f));
  if (missing.length === 0) return null;
  const why = `${missing.join(', ')} missing: apt-get install slapd ldap-utils (npm run setup does)`;
  if (process.env.CI === 'true') throw new Error(`LDAP tests need a real OpenLDAP: ${why}`);
  return why;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A real OpenLDAP server for one test file: its own temp dir (slapd.conf, mdb database,
 * certificates from a throwaway CA), listening on loopback only — plain LDAP (for
 * StartTLS) and LDAPS — stopped and removed by stop().
 */
export class TestSlapd {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tw-slapd-'));
  readonly pki = new TestPki();
  ldapPort = 0;
  ldapsPort = 0;
  private proc: ChildProcess | null = null;
  private log = '';

  get ldapUrl(): string {
    return `ldap://127.0.0.1:${this.ldapPort}`;
  }

  get ldapsUrl(): string {
    return `ldaps://127.0.0.1:${this.ldapsPort}`;
  }

  /** The CA that signed the server certificate (what a client must trust). */
  get caFile(): string {
    return this.pki.file('ca.crt');
  }

  async start(): Promise<void> {
    this.pki.ca('ca');
    this.pki.leaf('ldap', 'ca', 'localhost', [
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      'extendedKeyUsage=serverAuth',
    ]);
    this.pki.ca('rogue');
    mkdirSync(path.join(this.dir, 'db'));
    const conf = path.join(this.dir, 'slapd.conf');
    writeFileSync(
      conf,
      [
        'include /etc/ldap/schema/core.schema',
        'include /etc/ldap/schema/cosine.schema',
        'include /etc/ldap/schema/inetorgperson.schema',
        `pidfile ${path.join(this.dir, 'slapd.pid')}`,
        'modulepath /usr/lib/ldap',
        'moduleload back_mdb',
        `TLSCACertificateFile ${this.pki.file('ca.crt')}`,
        `TLSCertificateFile ${this.pki.file('ldap.crt')}`,
        `TLSCertificateKeyFile ${this.pki.file('ldap.key')}`,
        'database mdb',
        'maxsize 16777216',
        `suffix "${SUFFIX}"`,
        `rootdn "${ROOT_DN}"`,
        `rootpw ${ROOT_PW}`,
        `directory ${path.join(this.dir, 'db')}`,
        // Like a real directory: passwords only for binding, the rest for bound users.
        'access to attrs=userPassword by self read by anonymous auth by * none',
        'access to * by users read by * none',
        '',
      ].join('\n'),
    );
    this.ldapPort = await freePort();
    this.ldapsPort = await freePort();
    const proc = spawn(
      SLAPD,
      ['-d', '256', '-f', conf, '-h', `${this.ldapUrl}/ ${this.ldapsUrl}/`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`slapd did not start:\n${this.log}`)),
        20_000,
      );
      proc.stderr?.on('data', (c: Buffer) => {
        this.log += c.toString();
        // Printed once every listener is bound.
        if (this.log.includes('slapd starting')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`slapd exited (${code}):\n${this.log}`));
      });
    });
  }

  /** ldapadd / ldapmodify as the directory's root, over StartTLS against our CA. */
  private tool(bin: 'ldapadd' | 'ldapmodify', ldif: string): void {
    execFileSync(bin, ['-x', '-ZZ', '-H', this.ldapUrl, '-D', ROOT_DN, '-w', ROOT_PW], {
      input: ldif,
      env: { ...process.env, LDAPTLS_CACERT: this.caFile, LDAPTLS_REQCERT: 'demand' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  }

  /** A file holding the root password (for LDAP_BIND_PASSWORD_FILE). */
  rootPasswordFile(): string {
    const file = path.join(this.dir, 'root-password');
    writeFileSync(file, `${ROOT_PW}\n`, { mode: 0o600 });
    return file;
  }

  add(ldif: string): void {
    this.tool('ldapadd', ldif);
  }

  modify(ldif: string): void {
    this.tool('ldapmodify', ldif);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Stops slapd if it runs, and removes its directory and certificates. */
  async remove(): Promise<void> {
    await this.stop();
    this.pki.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
