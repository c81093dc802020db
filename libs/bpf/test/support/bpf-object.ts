// Reads a BPF ELF object through llvm-readelf, llvm-objdump and bpftool, and
// checks it against what kernel 4.19 (without BTF) accepts. Used by the
// object tests; proven able to fail by bpf-object.spec.ts.
import { execFileSync } from 'node:child_process';

export interface BpfSection {
  index: number;
  name: string;
  type: string;
  flags: string;
}

export interface BpfSymbol {
  name: string;
  type: string;
  bind: string;
  section: string;
  value: number;
  size: number;
}

export interface BpfInsn {
  index: number; // slot number inside the program (ld_imm64 takes two)
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export interface BpfProgram {
  name: string;
  section: string;
  insns: BpfInsn[];
  slots: number; // instruction count as the verifier sees it
}

export interface BpfMap {
  name: string;
  type: number; // enum bpf_map_type
}

export interface BpfObject {
  path: string;
  sections: BpfSection[];
  symbols: BpfSymbol[];
  programs: BpfProgram[];
  maps: BpfMap[];
}

// What 4.19 offers (include/uapi/linux/bpf.h as of v4.19).
export const LEGACY_LIMITS = {
  maxInsns: 4096, // BPF_MAXINSNS; 5.2 raised it to 1M for privileged programs
  maxHelperId: 84, // BPF_FUNC_skb_ancestor_cgroup_id, the last helper in 4.19
  maxMapType: 21, // BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, the last map type in 4.19
};

export const MAP_TYPE_RINGBUF = 27;

const BPF_CLASS_JMP = 0x05;
const BPF_CLASS_JMP32 = 0x06;
const BPF_CLASS_STX = 0x03;
const BPF_CALL = 0x80;
const BPF_EXIT = 0x90;
const BPF_JA = 0x00;
const BPF_MODE_ATOMIC = 0xc0; // BPF_XADD before 5.12
const BPF_PSEUDO_CALL = 1;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function readSections(path: string): BpfSection[] {
  const out = run('llvm-readelf', ['-S', '--wide', path]);
  const sections: BpfSection[] = [];
  // "  [ 3] tc   PROGBITS   0000000000000000 000040 003488 00  AX  0   0  8"
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/);
    if (Number(m[1]) === 0 || f.length < 9) continue;
    sections.push({
      index: Number(m[1]),
      name: f[0],
      type: f[1],
      flags: f.length >= 10 ? f[6] : '',
    });
  }
  return sections;
}

export function readSymbols(path: string, sections: BpfSection[]): BpfSymbol[] {
  const out = run('llvm-readelf', ['-s', '--wide', path]);
  const byIndex = new Map(sections.map((s) => [String(s.index), s.name]));
  const symbols: BpfSymbol[] = [];
  // "    42: 0000000000000000  6720 FUNC    GLOBAL DEFAULT     3 tw_tc_ingress"
  const re = /^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)$/;
  for (const line of out.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    symbols.push({
      name: m[6],
      value: parseInt(m[1], 16),
      size: Number(m[2]),
      type: m[3],
      bind: m[4],
      section: byIndex.get(m[5]) ?? m[5],
    });
  }
  return symbols;
}

function decode(bytes: number[], index: number): BpfInsn {
  const imm = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >> 0;
  const off = ((bytes[2] | (bytes[3] << 8)) << 16) >> 16;
  return { index, code: bytes[0], dst: bytes[1] & 0x0f, src: bytes[1] >> 4, off, imm };
}

// Instructions of every executable section, by section name; index = slot in the section.
function readInstructions(path: string): Map<string, BpfInsn[]> {
  const out = run('llvm-objdump', ['-d', path]);
  const bySection = new Map<string, BpfInsn[]>();
  let current: BpfInsn[] = [];
  for (const line of out.split('\n')) {
    const sec = /^Disassembly of section (.+):$/.exec(line);
    if (sec) {
      current = [];
      bySection.set(sec[1], current);
      continue;
    }
    // "      35:	18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00	r1 = 0 ll"
    const insn =
      /^\s*(\d+):\s+((?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?)/.exec(
        line,
      );
    if (insn)
      current.push(
        decode(
          insn[2].split(' ').map((b) => parseInt(b, 16)),
          Number(insn[1]),
        ),
      );
  }
  return bySection;
}

// One program per FUNC symbol (a section may hold several, e.g. both "tc" programs).
export function readPrograms(path: string, symbols: BpfSymbol[]): BpfProgram[] {
  const insns = readInstructions(path);
  return symbols
    .filter((s) => s.type === 'FUNC')
    .map((s) => {
      const first = s.value / 8;
      const end = (s.value + s.size) / 8;
      const own = (insns.get(s.section) ?? []).filter((i) => i.index >= first && i.index < end);
      return { name: s.name, section: s.section, insns: own, slots: end - first };
    });
}

interface BtfType {
  id: number;
  kind: string;
  name: string;
  type_id?: number;
  nr_elems?: number;
  members?: { name: string; type_id: number }[];
  vars?: { type_id: number }[];
}

// Map definitions from the object's own BTF: __uint(type, N) is a pointer to int[N].
export function readMaps(path: string): BpfMap[] {
  const btf = JSON.parse(run('bpftool', ['-j', 'btf', 'dump', 'file', path])) as {
    types: BtfType[];
  };
  const byId = new Map(btf.types.map((t) => [t.id, t]));
  const maps: BpfMap[] = [];
  const datasec = btf.types.find((t) => t.kind === 'DATASEC' && t.name === '.maps');
  for (const v of datasec?.vars ?? []) {
    const variable = byId.get(v.type_id);
    let def = variable?.type_id === undefined ? undefined : byId.get(variable.type_id);
    while (def && def.kind !== 'STRUCT' && def.type_id !== undefined) def = byId.get(def.type_id);
    const typeMember = def?.members?.find((m) => m.name === 'type');
    const ptr = typeMember ? byId.get(typeMember.type_id) : undefined;
    const arr = ptr?.type_id === undefined ? undefined : byId.get(ptr.type_id);
    maps.push({ name: variable?.name ?? '?', type: arr?.nr_elems ?? -1 });
  }
  return maps;
}

export function readBpfObject(path: string): BpfObject {
  const sections = readSections(path);
  const symbols = readSymbols(path, sections);
  return {
    path,
    sections,
    symbols,
    programs: readPrograms(path, symbols),
    maps: readMaps(path),
  };
}

function successors(insn: BpfInsn, slots: number): number[] {
  const cls = insn.code & 0x07;
  const op = insn.code & 0xf0;
  const next = insn.index + slots;
  if (cls !== BPF_CLASS_JMP && cls !== BPF_CLASS_JMP32) return [next];
  if (op === BPF_EXIT) return [];
  if (op === BPF_CALL) return [next];
  const target = insn.index + 1 + insn.off;
  return op === BPF_JA ? [target] : [next, target];
}

/*
 * Back-edges as the 4.19 verifier's check_cfg finds them: an edge to an
 * instruction still on the depth-first stack, i.e. a cycle. A jump backwards
 * to a shared tail block (clang's block placement does that) is no loop and
 * 4.19 accepts it.
 */
export function backEdges(prog: BpfProgram): { from: number; to: number }[] {
  const at = new Map<number, { insn: BpfInsn; slots: number }>();
  prog.insns.forEach((insn, i) => {
    const nextIndex = i + 1 < prog.insns.length ? prog.insns[i + 1].index : insn.index + 1;
    at.set(insn.index, { insn, slots: Math.max(1, nextIndex - insn.index) });
  });
  const state = new Map<number, 'open' | 'done'>();
  const edges: { from: number; to: number }[] = [];
  const start = prog.insns[0]?.index;
  if (start === undefined) return edges;
  const stack: { node: number; succ: number[]; next: number }[] = [];
  const push = (node: number): void => {
    const entry = at.get(node);
    state.set(node, 'open');
    stack.push({ node, succ: entry ? successors(entry.insn, entry.slots) : [], next: 0 });
  };
  push(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next >= top.succ.length) {
      state.set(top.node, 'done');
      stack.pop();
      continue;
    }
    const to = top.succ[top.next++];
    if (!at.has(to)) continue; // leaving the program: the verifier rejects that anyway
    const seen = state.get(to);
    if (seen === 'open') edges.push({ from: top.node, to });
    else if (seen === undefined) push(to);
  }
  return edges;
}

const GLOBAL_DATA_SECTION = /^\.(data|rodata|bss)(\..*)?$|^\.kconfig$|^\.ksyms$/;
const ALLOWED_OBJECT_SECTIONS = new Set(['.maps', 'license', 'version']);

export type Rule = 'global-data' | 'back-edge' | 'helper' | 'map-type' | 'size' | 'insn-set';

export interface Violation {
  rule: Rule;
  message: string;
}

// Everything in obj that kernel 4.19 would refuse; empty when it is clean.
export function legacyViolations(obj: BpfObject, limits = LEGACY_LIMITS): Violation[] {
  const problems: Violation[] = [];
  const add = (rule: Rule, message: string): void => {
    problems.push({ rule, message });
  };

  for (const s of obj.sections) {
    if (GLOBAL_DATA_SECTION.test(s.name))
      add('global-data', `global-variable section ${s.name} (needs 5.2)`);
  }
  for (const sym of obj.symbols) {
    if (sym.type === 'OBJECT' && !ALLOWED_OBJECT_SECTIONS.has(sym.section)) {
      add('global-data', `global variable ${sym.name} in section ${sym.section} (needs 5.2)`);
    }
  }

  const text = obj.programs.filter((p) => p.section === '.text');
  const textSlots = text.reduce((n, p) => n + p.slots, 0);
  for (const prog of obj.programs) {
    const where = `${prog.section}/${prog.name}`;
    let callsSubprog = false;
    for (const insn of prog.insns) {
      const cls = insn.code & 0x07;
      const op = insn.code & 0xf0;
      if (cls === BPF_CLASS_JMP32)
        add('insn-set', `${where}@${insn.index}: JMP32 instruction (needs 5.1)`);
      if (cls === BPF_CLASS_STX && (insn.code & 0xe0) === BPF_MODE_ATOMIC && insn.imm !== 0) {
        add(
          'insn-set',
          `${where}@${insn.index}: atomic op 0x${insn.imm.toString(16)} other than add (needs 5.12)`,
        );
      }
      if (cls === BPF_CLASS_JMP && op === BPF_CALL) {
        if (insn.src === BPF_PSEUDO_CALL) callsSubprog = true;
        else if (insn.src !== 0) add('helper', `${where}@${insn.index}: kfunc call (needs 5.13)`);
        else if (insn.imm > limits.maxHelperId) {
          add(
            'helper',
            `${where}@${insn.index}: helper ${insn.imm} > ${limits.maxHelperId} (not in 4.19)`,
          );
        }
      }
    }
    for (const edge of backEdges(prog)) {
      add(
        'back-edge',
        `${where}@${edge.from}: back-edge to ${edge.to}, a loop (bounded loops need 5.3)`,
      );
    }
    // a called subprogram is appended to the program: count .text in full
    const slots = prog.slots + (callsSubprog ? textSlots : 0);
    if (prog.section !== '.text' && slots > limits.maxInsns) {
      add('size', `${where}: ${slots} instructions > ${limits.maxInsns}`);
    }
  }

  for (const m of obj.maps) {
    if (m.type < 0 || m.type > limits.maxMapType) {
      add('map-type', `map ${m.name}: type ${m.type} > ${limits.maxMapType} (not in 4.19)`);
    }
  }
  return problems;
}

// Instruction-count problems only (for objects meant for newer kernels).
export function sizeViolations(obj: BpfObject, maxInsns = LEGACY_LIMITS.maxInsns): Violation[] {
  return obj.programs
    .filter((p) => p.section !== '.text' && p.slots > maxInsns)
    .map((p) => ({
      rule: 'size',
      message: `${p.section}/${p.name}: ${p.slots} instructions > ${maxInsns}`,
    }));
}
