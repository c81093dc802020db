import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMasker, readMaskingKey } from './masker';
import { formatAddress, parseAddress } from './address';

const KEY = Buffer.alloc(32, 7);

describe('address text', () => {
  it.each([
    ['198.18.0.1', '198.18.0.1'],
    ['fd00::1', 'fd00::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
  ])('parses and formats %s as %s', (input, expected) => {
    expect(formatAddress(parseAddress(input)!)).toBe(expected);
  });
});

describe('masking policies', () => {
  it('none leaves addresses as they are', () => {
    const m = createMasker({ mode: 'none', ipv4PrefixBits: 24, ipv6PrefixBits: 48 });
    expect(m.maskText('198.18.0.7')).toBe('198.18.0.7');
    expect(m.scrub('from 198.18.0.7')).toBe('from 198.18.0.7');
  });

  it('truncate keeps /24 and /48 by default and says so', () => {
    const m = createMasker({ mode: 'truncate', ipv4PrefixBits: 24, ipv6PrefixBits: 48 });
    expect(m.maskText('198.18.0.7')).toBe('198.18.0.0/24');
    expect(m.maskText('fd00:1:2:3::9')).toBe('fd00:1:2::/48');
    expect(m.maskBytes(Buffer.from([198, 19, 200, 1]))).toBe('198.19.200.0/24');
  });

  it('truncate honours configured prefix lengths', () => {
    const m = createMasker({ mode: 'truncate', ipv4PrefixBits: 16, ipv6PrefixBits: 32 });
    expect(m.maskText('198.18.77.7')).toBe('198.18.0.0/16');
    expect(m.maskText('fd00:1:2:3::9')).toBe('fd00:1::/32');
  });

  it('pseudonymize is deterministic per key and hides the address', () => {
    const m = createMasker({ mode: 'pseudonymize', ipv4PrefixBits: 24, ipv6PrefixBits: 48 }, KEY);
    const a = m.maskText('198.18.0.1');
    expect(a).not.toBe('198.18.0.1');
    expect(m.maskText('198.18.0.1')).toBe(a);
    const other = createMasker(
      { mode: 'pseudonymize', ipv4PrefixBits: 24, ipv6PrefixBits: 48 },
      Buffer.alloc(32, 9),
    );
    expect(other.maskText('198.18.0.1')).not.toBe(a);
  });

  it('scrub replaces every address literal in free text', () => {
    for (const mode of ['truncate', 'pseudonymize'] as const) {
      const m = createMasker({ mode, ipv4PrefixBits: 24, ipv6PrefixBits: 48 }, KEY);
      const out = m.scrub(
        'connect 198.18.0.1:443 -> [fd00::2]:80 failed; peer fd00:0:0:1::5 and 198.19.3.4 at 10:00:00',
      );
      for (const raw of ['198.18.0.1', 'fd00::2', 'fd00:0:0:1::5', '198.19.3.4']) {
        expect(out).not.toContain(raw);
      }
      expect(out).toContain('10:00:00');
    }
  });

  it('reads a key as raw bytes or hex, and explains a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-key-'));
    try {
      writeFileSync(join(dir, 'raw'), KEY);
      writeFileSync(join(dir, 'hex'), `${KEY.toString('hex')}\n`);
      writeFileSync(join(dir, 'bad'), 'short');
      expect(readMaskingKey(join(dir, 'raw'))).toEqual(KEY);
      expect(readMaskingKey(join(dir, 'hex'))).toEqual(KEY);
      expect(() => readMaskingKey(join(dir, 'bad'))).toThrow(/32 bytes/);
      expect(() => readMaskingKey(join(dir, 'missing'))).toThrow(/cannot read masking key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
