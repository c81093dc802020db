import { parseVerifierStats } from './kernel-load';

describe('parseVerifierStats', () => {
  it('reads the processed-instruction count of each program from bpftool -d output', () => {
    const log = [
      "libbpf: prog 'tw_tc_ingress': -- BEGIN PROG LOAD LOG --",
      '0: R1=ctx() R10=fp0',
      'processed 12336 insns (limit 1000000) max_states_per_insn 18 total_states 1030',
      "libbpf: prog 'tw_tc_ingress': -- END PROG LOAD LOG --",
      "libbpf: prog 'tw_tp_kfree_skb': -- BEGIN PROG LOAD LOG --",
      'processed 143 insns (limit 1000000) max_states_per_insn 1 total_states 13',
    ].join('\n');
    expect(parseVerifierStats(log)).toEqual({ tw_tc_ingress: 12336, tw_tp_kfree_skb: 143 });
  });
});
