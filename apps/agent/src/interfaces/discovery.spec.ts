import {
  globToRegExp,
  missingNamedInterfaces,
  selectInterfaces,
  type NetInterface,
} from './discovery';

const ifs: NetInterface[] = [
  { name: 'lo', ifindex: 1, mtu: 65536, up: true, loopback: true },
  { name: 'eth0', ifindex: 2, mtu: 1500, up: true, loopback: false },
  { name: 'eth1', ifindex: 3, mtu: 1500, up: false, loopback: false },
  { name: 'veth-tw1', ifindex: 4, mtu: 1500, up: true, loopback: false },
];

describe('interface selection', () => {
  it('defaults to every up, non-loopback interface', () => {
    expect(selectInterfaces(ifs, { include: [], exclude: [] }).map((i) => i.name)).toEqual([
      'eth0',
      'veth-tw1',
    ]);
  });
  it('takes names and globs, and exclusions', () => {
    expect(
      selectInterfaces(ifs, { include: ['eth*', 'lo'], exclude: ['eth0'] }).map((i) => i.name),
    ).toEqual(['lo', 'eth1']);
    expect(globToRegExp('veth-tw[0-9]').test('veth-tw1')).toBe(true);
    expect(globToRegExp('eth?').test('eth10')).toBe(false);
  });
  it('names unknown literal interfaces, not globs', () => {
    expect(missingNamedInterfaces(ifs, ['eth0', 'nope0', 'wl*'])).toEqual(['nope0']);
  });
});
