import { randomLinkAddresses, randomMac } from './addresses';

describe('randomLinkAddresses', () => {
  it('stays inside 198.18.0.0/15 and fd00::/8, one /30 per link', () => {
    for (let i = 0; i < 200; i++) {
      const a = randomLinkAddresses();
      const [o1, o2, o3, o4] = a.a4.split('.').map(Number);
      expect(o1).toBe(198);
      expect([18, 19]).toContain(o2);
      expect(o4 % 4).toBe(1);
      expect(a.b4).toBe(`${o1}.${o2}.${o3}.${o4 + 1}`);
      expect(a.a6).toMatch(/^fd00:7477:[0-9a-f]{1,4}:[0-9a-f]{1,4}::1$/);
      expect(a.b6).toBe(a.a6.replace(/::1$/, '::2'));
    }
  });

  it('makes locally administered unicast MACs', () => {
    expect(randomMac()).toMatch(/^02:74(:[0-9a-f]{2}){4}$/);
  });
});
