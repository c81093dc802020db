import { createHash } from 'node:crypto';
import {
  canonicalJson,
  entryHash,
  InvalidAuditEntryError,
  normaliseEntry,
  StoredEntry,
} from './audit-entry';

// The hashed encoding is a contract with every entry already stored: these
// answers were computed independently, with `openssl dgst -sm3` / `-sha256`
// over the bytes prevHash ‖ UTF-8 JSON of the fields.

const entry = (hashAlg: 'sm3' | 'sha256'): Omit<StoredEntry, 'hash'> => ({
  sequence: 42n,
  timeMs: 1767225600123,
  actor: '张三',
  actorRole: 'auditadmin',
  source: '198.18.0.1',
  action: 'auth.login',
  target: 'user:张三',
  outcome: 'success',
  reason: null,
  requestId: 'req-1',
  details: '{"a":1}',
  hashAlg,
  prevHash: Buffer.alloc(32, 0xab),
});

it('hashes with SM3 (GB/T 32905) exactly as openssl does', () => {
  // The standard's own example first: SM3("abc").
  expect(createHash('sm3').update('abc').digest('hex')).toBe(
    '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
  );
  expect(entryHash(entry('sm3')).toString('hex')).toBe(
    'e5c73902fd1b0be68b514edee046295b75910c41090f72e4293d9daf4f3239dd',
  );
});

it('hashes with SHA-256 when the entry says so', () => {
  expect(entryHash(entry('sha256')).toString('hex')).toBe(
    'e217f03d5b4937643965dc8ab32449d8a2f06ee3040c24e98f3bb0c425f3baa2',
  );
});

it('changes with every field and with the previous hash', () => {
  const base = entryHash(entry('sm3'));
  const variants: Partial<StoredEntry>[] = [
    { sequence: 43n },
    { timeMs: 1767225600124 },
    { actor: '李四' },
    { actorRole: 'viewer' },
    { source: null },
    { action: 'auth.logout' },
    { target: null },
    { outcome: 'denied' },
    { reason: '' },
    { requestId: null },
    { details: '{"a":2}' },
    { prevHash: Buffer.alloc(32) },
  ];
  for (const v of variants) expect(entryHash({ ...entry('sm3'), ...v }).equals(base)).toBe(false);
});

it('normalises details canonically and refuses bad actions', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: undefined } })).toBe(
    '{"a":{"d":[2,{"y":0,"z":1}]},"b":1}',
  );
  expect(normaliseEntry({ actor: 'a\u0000b', action: 'x.y', outcome: 'success' }).actor).toBe('ab');
  expect(() => normaliseEntry({ actor: null, action: 'Login', outcome: 'success' })).toThrow(
    InvalidAuditEntryError,
  );
});
