import { catalogs } from '../messages';
import { dropReasonKey } from './drop-reasons';

describe('drop reasons', () => {
  it('are keyed by the kernel name without its prefix, however the agent sent it', () => {
    expect(
      ['SKB_DROP_REASON_NO_SOCKET', 'NO_SOCKET', 'unknown', ' tcp_csum '].map(dropReasonKey),
    ).toEqual(['NO_SOCKET', 'NO_SOCKET', 'unknown', 'TCP_CSUM']);
  });
  it('have a translated name in both catalogs, none of them the raw name', () => {
    for (const c of [catalogs['zh-CN'], catalogs.en]) {
      for (const [k, v] of Object.entries(c.host.dropReason))
        expect([k, v === k]).toEqual([k, false]);
    }
    expect(catalogs['zh-CN'].host.dropReason.NO_SOCKET).toBe('无接收套接字（端口未监听）');
  });
});
