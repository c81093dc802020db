import { parseFieldOffset, parseReasonNames, parseReasonOffset } from './tracefs';

describe('parseReasonOffset', () => {
  it('finds the reason field of skb/kfree_skb (5.17+)', () => {
    const format = [
      '\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;',
      '\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;',
      '\tfield:unsigned short protocol;\toffset:32;\tsize:2;\tsigned:0;',
      '\tfield:enum skb_drop_reason reason;\toffset:36;\tsize:4;\tsigned:0;',
    ].join('\n');
    expect(parseReasonOffset(format)).toBe(36);
  });

  it('answers 0 on kernels without drop reasons (4.19)', () => {
    const format = [
      '\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;',
      '\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;',
      '\tfield:unsigned short protocol;\toffset:24;\tsize:2;\tsigned:0;',
    ].join('\n');
    expect(parseReasonOffset(format)).toBe(0);
  });
});

describe('parseReasonNames', () => {
  it("maps this kernel's drop reason numbers to names", () => {
    const format =
      'print fmt: "skbaddr=%p reason: %s", REC->skbaddr, __print_symbolic(REC->reason, ' +
      '{ 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" }, { 12, "NETFILTER_DROP" })';
    const names = parseReasonNames(format);
    expect(names.get(12)).toBe('NETFILTER_DROP');
    expect(names.get(3)).toBe('NO_SOCKET');
    expect(names.size).toBe(3);
  });

  it('is empty without a reason field', () => {
    expect(parseReasonNames('print fmt: "skbaddr=%p", REC->skbaddr').size).toBe(0);
  });
});

describe('parseFieldOffset', () => {
  // tcp/tcp_retransmit_skb on 4.19 (no skbaddr-sized state before sport).
  const v419 = [
    '\tfield:const void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;',
    '\tfield:const void * skaddr;\toffset:16;\tsize:8;\tsigned:0;',
    '\tfield:__u16 sport;\toffset:24;\tsize:2;\tsigned:0;',
    '\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;',
    '\tfield:__u8 saddr[4];\toffset:28;\tsize:4;\tsigned:0;',
    '\tfield:__u8 saddr_v6[16];\toffset:36;\tsize:16;\tsigned:0;',
  ].join('\n');

  it('finds plain and array fields', () => {
    expect(parseFieldOffset(v419, 'sport')).toBe(24);
    expect(parseFieldOffset(v419, 'saddr_v6')).toBe(36);
    expect(parseFieldOffset(v419, 'saddr')).toBe(28);
  });

  it('answers 0 for a field that is not there', () => {
    expect(parseFieldOffset(v419, 'family')).toBe(0);
  });
});
