// The checker must be able to fail: a tiny object with a global variable, a
// loop, a 5.x helper, a ring buffer and a program over 4096 instructions is
// built here with clang and every one of those is reported.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BpfInsn,
  BpfObject,
  BpfProgram,
  Rule,
  backEdges,
  legacyViolations,
  readBpfObject,
} from './bpf-object';

const BAD_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

int counter; /* .bss */
const char greeting[] = "hello"; /* .rodata */

SEC("tc")
int looping(struct __sk_buff *skb)
{
	int n = skb->len & 0xff;

#pragma nounroll
	for (int i = 0; i < n; i++)
		counter += i + greeting[i & 3];
	counter += bpf_ktime_get_boot_ns(); /* helper 125, 5.8 */
	return 0;
}

#define STEP x = x * 3 + 1;
#define S10 STEP STEP STEP STEP STEP STEP STEP STEP STEP STEP
#define S100 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S1000 S100 S100 S100 S100 S100 S100 S100 S100 S100 S100

SEC("tc")
int huge(struct __sk_buff *skb)
{
	volatile __u64 x = skb->len;

	S1000 S1000
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

const GOOD_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("tc")
int counting(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&hits, &key);

	if (v)
		*v += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

function compile(dir: string, name: string, source: string): string {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  const multiarch =
    execFileSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).trim() || 'x86_64-linux-gnu';
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    '-mcpu=v2',
    `-I/usr/include/${multiarch}`,
    '-c',
    c,
    '-o',
    o,
  ]);
  return o;
}

function rules(obj: BpfObject): Set<Rule> {
  return new Set(legacyViolations(obj).map((v) => v.rule));
}

describe('the 4.19 object checker', () => {
  let dir: string;
  let bad: BpfObject;
  let good: BpfObject;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-bpf-object-'));
    bad = readBpfObject(compile(dir, 'bad', BAD_C));
    good = readBpfObject(compile(dir, 'good', GOOD_C));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes a small clean program', () => {
    expect(legacyViolations(good)).toEqual([]);
    expect(good.programs.map((p) => p.name)).toEqual(['counting']);
    expect(good.maps).toEqual([{ name: 'hits', type: 6 }]);
  });

  it('reports the global variables', () => {
    const messages = legacyViolations(bad).filter((v) => v.rule === 'global-data');
    expect(messages.map((v) => v.message).join('\n')).toMatch(/\.bss/);
    expect(messages.map((v) => v.message).join('\n')).toMatch(/\.rodata/);
  });

  it('reports the loop, the 5.8 helper, the ring buffer and the oversized program', () => {
    expect(rules(bad)).toEqual(
      new Set<Rule>(['global-data', 'back-edge', 'helper', 'map-type', 'size']),
    );
    const text = legacyViolations(bad)
      .map((v) => v.message)
      .join('\n');
    expect(text).toMatch(/tc\/looping@\d+: back-edge/);
    expect(text).toMatch(/helper 125 > 84/);
    expect(text).toMatch(/map rb: type 27/);
    expect(text).toMatch(/tc\/huge: \d+ instructions > 4096/);
  });
});

describe('back-edges', () => {
  const jmp = (index: number, off: number, code = 0x15 /* if dst == imm */): BpfInsn => ({
    index,
    code,
    dst: 1,
    src: 0,
    off,
    imm: 0,
  });
  const mov = (index: number): BpfInsn => ({ index, code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 });
  const exit = (index: number): BpfInsn => ({ index, code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  const prog = (insns: BpfInsn[]): BpfProgram => ({
    name: 'p',
    section: 'tc',
    insns,
    slots: insns.length,
  });

  it('accepts a backward jump to a shared tail block (no cycle, 4.19 accepts it)', () => {
    // 0: goto 3; 1: r0 = 0; 2: exit; 3: if r1 == 0 goto 1; 4: exit
    expect(backEdges(prog([jmp(0, 2, 0x05), mov(1), exit(2), jmp(3, -3), exit(4)]))).toEqual([]);
  });

  it('finds a cycle', () => {
    // 0: r0 = 0; 1: if r1 == 0 goto 0; 2: exit
    expect(backEdges(prog([mov(0), jmp(1, -2), exit(2)]))).toEqual([{ from: 1, to: 0 }]);
  });
});
