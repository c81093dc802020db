import { CryptoPan } from './crypto-pan';
import { formatAddress, parseAddress } from './address';

// The sample key and trace of the Crypto-PAn reference distribution; the IPv6
// answers are those published with the widely used Go implementation.
const KEY = Buffer.from([
  21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131, 121,
  121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
]);

const IPV4: Array<[string, string]> = [
  ['128.11.68.132', '135.242.180.132'],
  ['129.118.74.4', '134.136.186.123'],
  ['130.132.252.244', '133.68.164.234'],
  ['141.223.7.43', '141.167.8.160'],
  ['141.233.145.108', '141.129.237.235'],
  ['152.163.225.39', '151.140.114.167'],
  ['156.29.3.236', '147.225.12.42'],
  ['192.102.249.13', '252.138.62.131'],
  ['24.0.250.221', '100.15.198.226'],
  ['10.185.25.118', '117.161.29.118'],
];

const IPV6: Array<[string, string]> = [
  ['::1', '78ff:f001:9fc0:20df:8380:b1f1:704:ed'],
  ['::2', '78ff:f001:9fc0:20df:8380:b1f1:704:ef'],
  ['::ffff', '78ff:f001:9fc0:20df:8380:b1f1:704:f838'],
  ['2001:db8::1', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e'],
  ['2001:db8::2', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c'],
];

function anon(pan: CryptoPan, text: string): string {
  return formatAddress(pan.anonymize(parseAddress(text)!));
}

function commonPrefixBits(a: Buffer, b: Buffer): number {
  for (let i = 0; i < a.length * 8; i++) {
    const m = 0x80 >> (i & 7);
    if ((a[i >> 3] & m) !== (b[i >> 3] & m)) return i;
  }
  return a.length * 8;
}

describe('CryptoPan', () => {
  const pan = new CryptoPan(KEY);

  it.each(IPV4)('maps %s to the reference answer %s', (input, expected) => {
    expect(anon(pan, input)).toBe(expected);
  });

  it.each(IPV6)('maps %s to the published IPv6 answer %s', (input, expected) => {
    expect(anon(pan, input)).toBe(expected);
  });

  it('preserves exactly the shared prefix length of every pair (IPv4 and IPv6)', () => {
    const addrs = [
      '198.18.0.1',
      '198.18.0.2',
      '198.18.1.1',
      '198.19.255.254',
      '10.0.0.1',
      '128.0.0.1',
    ].map((a) => parseAddress(a)!);
    const v6 = ['fd00::1', 'fd00::2', 'fd00:0:0:1::1', 'fd01::1', '2001:db8::1'].map((a) =>
      parseAddress(a)!,
    );
    for (const group of [addrs, v6]) {
      for (const a of group) {
        for (const b of group) {
          expect(commonPrefixBits(pan.anonymize(a), pan.anonymize(b))).toBe(commonPrefixBits(a, b));
        }
      }
    }
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => new CryptoPan(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
