import { buildUdpFrame } from './frames';

const base = {
  srcMac: '02:74:00:00:00:01',
  dstMac: '02:74:00:00:00:02',
  sport: 1000,
  dport: 2000,
  size: 10,
};

describe('buildUdpFrame', () => {
  it('builds an IPv4 frame with a valid header checksum', () => {
    const f = buildUdpFrame({ ...base, src: '198.18.0.1', dst: '198.18.0.2' });
    expect(f.length).toBe(14 + 20 + 8 + 10);
    expect(f.readUInt16BE(12)).toBe(0x0800);
    const ip = f.subarray(14, 34);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    expect(f.readUInt16BE(34)).toBe(1000);
    expect(f.readUInt16BE(36)).toBe(2000);
  });

  it('puts 802.1ad and 802.1Q tags, outermost first, before an IPv6 header', () => {
    const f = buildUdpFrame({
      ...base,
      src: 'fd00::1',
      dst: 'fd00::2',
      tags: [
        { tpid: 0x88a8, id: 200 },
        { tpid: 0x8100, id: 100 },
      ],
    });
    expect(f.length).toBe(14 + 8 + 40 + 8 + 10);
    expect(f.readUInt16BE(12)).toBe(0x88a8);
    expect(f.readUInt16BE(14)).toBe(200);
    expect(f.readUInt16BE(16)).toBe(0x8100);
    expect(f.readUInt16BE(18)).toBe(100);
    expect(f.readUInt16BE(20)).toBe(0x86dd);
    expect(f.subarray(22 + 8, 22 + 24).toString('hex')).toBe('fd000000000000000000000000000001');
  });
});
