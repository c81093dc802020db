// The built BPF objects, checked statically against what kernel 4.19 without
// BTF accepts (no global data, no loops, helpers <= 84, map types <= 21,
// <= 4096 instructions) and then loaded into this kernel: the verifier
// accepting every program is the real proof.
import { execFileSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import {
  BpfObject,
  LEGACY_LIMITS,
  Rule,
  legacyViolations,
  readBpfObject,
  sizeViolations,
} from './support/bpf-object';
import { loadAllPrograms, loadBlocker } from './support/kernel-load';
import { release } from 'node:os';
import { addonAvailable, probeKernel } from '../src';

const LIB = resolve(__dirname, '..');
const LEGACY = join(LIB, 'build', 'tidewatch.bpf.o');
const MODERN = join(LIB, 'build', 'tidewatch.modern.bpf.o');

const PROGRAMS: Record<string, string> = {
  tw_tc_ingress: 'tc',
  tw_tc_egress: 'tc',
  tw_tp_sock_state: 'tracepoint/sock/inet_sock_set_state',
  tw_tp_retransmit: 'tracepoint/tcp/tcp_retransmit_skb',
  tw_tp_kfree_skb: 'tracepoint/skb/kfree_skb',
};
const PROGRAM_TYPES: Record<string, string> = {
  tw_tc_ingress: 'sched_cls',
  tw_tc_egress: 'sched_cls',
  tw_tp_sock_state: 'tracepoint',
  tw_tp_retransmit: 'tracepoint',
  tw_tp_kfree_skb: 'tracepoint',
};
const MAPS = [
  'tw_config',
  'tw_conn_start',
  'tw_drops',
  'tw_errors',
  'tw_events',
  'tw_flow_pend',
  'tw_flows_a',
  'tw_flows_b',
  'tw_ifslot_direct',
  'tw_ifslots',
  'tw_retrans',
  'tw_tcp_stats',
  'tw_traffic',
];
const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
// 4.19 stops at 131072 processed instructions (BPF_COMPLEXITY_LIMIT_INSNS) and,
// without precision tracking (5.3), prunes fewer paths than this kernel: keep
// a 4x margin on what this kernel's verifier processes.
const LEGACY_PROCESSED_BUDGET = 131072 / 4;
const BPF_MAP_TYPE_RINGBUF = 27;

// The objects are build output: build them from the current source first.
beforeAll(() => {
  execFileSync('make', ['-s', '-C', join(LIB, 'src')], { stdio: 'inherit' });
});

function messages(obj: BpfObject, rule: Rule): string[] {
  return legacyViolations(obj)
    .filter((v) => v.rule === rule)
    .map((v) => v.message);
}

describe('legacy object tidewatch.bpf.o (kernel 4.19, no BTF)', () => {
  let obj: BpfObject;
  beforeAll(() => {
    obj = readBpfObject(LEGACY);
  });

  it('has no global variables (.data/.rodata/.bss need 5.2)', () => {
    expect(messages(obj, 'global-data')).toEqual([]);
    expect(obj.sections.map((s) => s.name)).not.toContain('.rodata');
  });

  it('has no loops left as back-edges (bounded loops need 5.3)', () => {
    expect(messages(obj, 'back-edge')).toEqual([]);
  });

  it('calls only helpers 4.19 has (id <= 84)', () => {
    expect(messages(obj, 'helper')).toEqual([]);
    const helperCalls = obj.programs.flatMap((p) =>
      p.insns.filter((i) => i.code === 0x85 && i.src === 0),
    );
    expect(helperCalls.length).toBeGreaterThan(0);
    expect(Math.max(...helperCalls.map((i) => i.imm))).toBeLessThanOrEqual(
      LEGACY_LIMITS.maxHelperId,
    );
  });

  it('uses only map types 4.19 has (<= PERCPU_CGROUP_STORAGE, no ring buffer)', () => {
    expect(messages(obj, 'map-type')).toEqual([]);
    expect(obj.maps.find((m) => m.name === 'tw_events')?.type).toBe(BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  });

  it('uses only the 4.19 instruction set (no JMP32, no atomics but add)', () => {
    expect(messages(obj, 'insn-set')).toEqual([]);
  });

  it('keeps every program within 4096 instructions', () => {
    expect(messages(obj, 'size')).toEqual([]);
    for (const p of obj.programs) expect(p.slots).toBeLessThanOrEqual(LEGACY_LIMITS.maxInsns);
  });

  it('has the expected programs, sections and maps', () => {
    const programs = Object.fromEntries(obj.programs.map((p) => [p.name, p.section]));
    expect(programs).toEqual(PROGRAMS);
    expect(obj.maps.map((m) => m.name).sort()).toEqual(MAPS);
    expect(obj.sections.map((s) => s.name)).toContain('license');
  });
});

describe('modern object tidewatch.modern.bpf.o', () => {
  let obj: BpfObject;
  beforeAll(() => {
    obj = readBpfObject(MODERN);
  });

  it('says modern in its file name', () => {
    expect(basename(MODERN)).toContain('modern');
  });

  it('keeps every program within 4096 instructions', () => {
    expect(sizeViolations(obj)).toEqual([]);
  });

  it('has the same programs and maps, with a ring buffer for events', () => {
    expect(Object.fromEntries(obj.programs.map((p) => [p.name, p.section]))).toEqual(PROGRAMS);
    expect(obj.maps.map((m) => m.name).sort()).toEqual(MAPS);
    expect(obj.maps.find((m) => m.name === 'tw_events')?.type).toBe(BPF_MAP_TYPE_RINGBUF);
  });

  it('has no global variables either', () => {
    expect(messages(obj, 'global-data')).toEqual([]);
  });
});

// Under CI a kernel test that cannot run fails; elsewhere it is skipped with the reason.
const blocker = loadBlocker();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (blocker && !inCi) console.warn(`skipping the kernel load tests: ${blocker}`);
const kernelIt = blocker && !inCi ? it.skip : it;

// What this kernel should take, by its version (the ground truth the probe is
// also checked against): the modern object needs the ring buffer (5.8).
const [major, minor] = release()
  .split('.')
  .map((x) => parseInt(x, 10));
const hasRingbuf = major > 5 || (major === 5 && minor >= 8);

describe('loading into this kernel (bpftool prog loadall)', () => {
  it(`probes Linux ${major}.${minor} as a kernel for the ${hasRingbuf ? 'modern' : 'legacy'} object`, () => {
    if (!addonAvailable()) throw new Error('the native addon is not built');
    expect(probeKernel().object).toBe(hasRingbuf ? 'modern' : 'legacy');
  });

  if (!hasRingbuf) {
    kernelIt(`Linux ${major}.${minor} refuses the modern object: no ring buffer before 5.8`, () => {
      if (blocker) throw new Error(`cannot load BPF programs here: ${blocker}`);
      expect(() => loadAllPrograms(MODERN)).toThrow(/map 'tw_events': failed to create/);
    });
  }

  for (const [label, path] of hasRingbuf
    ? [
        ['legacy', LEGACY],
        ['modern', MODERN],
      ]
    : [['legacy', LEGACY]]) {
    kernelIt(`the verifier accepts every program of the ${label} object`, () => {
      if (blocker) throw new Error(`cannot load BPF programs here: ${blocker}`);
      const result = loadAllPrograms(path);
      expect(result.pinned).toEqual(Object.keys(PROGRAMS).sort());
      expect(result.types).toEqual(PROGRAM_TYPES);
      expect(Object.keys(result.processed).sort()).toEqual(Object.keys(PROGRAMS).sort());
      // A kernel with 4.19's 131072-instruction limit: at least a 2x margin there.
      if (result.limit === 131072) {
        for (const [name, n] of Object.entries(result.processed)) {
          expect({ name, processed: n, withinLimit: n <= 131072 / 2 }).toEqual({
            name,
            processed: n,
            withinLimit: true,
          });
        }
      } else if (label === 'legacy') {
        for (const [name, n] of Object.entries(result.processed)) {
          expect({ name, processed: n, withinBudget: n <= LEGACY_PROCESSED_BUDGET }).toEqual({
            name,
            processed: n,
            withinBudget: true,
          });
        }
      }
    });
  }
});
