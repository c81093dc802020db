// Leak test of the native addon under valgrind: a Node script
// (fixtures/addon-cycles.js) runs every addon operation on both objects,
// CYCLES times, and valgrind's leak report must hold no "definitely lost"
// block in our code.
//
// The rule: valgrind runs with --leak-check=full
// --errors-for-leak-kinds=definite --error-exitcode=99 and Node's known losses
// suppressed (fixtures/node.supp, each entry says why). A definitely-lost
// record counts against us when its allocation stack passes through our
// addon's .node file (or a tidewatch:: function) or libbpf. Other definite
// records, Node's own, are listed in the failure message but do not fail the
// test (exit code 99 alone is not the verdict). Memory errors (invalid
// read/write/free) in our frames fail it too.
//
// It can fail: a throwaway addon with a 4 KiB malloc it forgets, built under
// /tmp with the same file name, is caught by the same run and rule; and the
// parser is tested on a captured report (fixtures/valgrind-leak.log).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exec, useTestNetwork, type ExecResult, type Link } from '@tidewatch/testhosts';
import { describeKernel } from './support/describe-kernel';

// Measured here (2 cores): Node starts under valgrind in about 15 s, and one
// legacy + modern cycle then takes about 1.2 s, mostly waiting for the kernel
// (verifier, the event's way to the poller). 40 cycles: about 65 s.
const CYCLES = 40;
const VALGRIND_TIMEOUT_MS = 170_000;

jest.setTimeout(VALGRIND_TIMEOUT_MS + 30_000);

const FIXTURES = resolve(__dirname, 'fixtures');
const SUPPRESSIONS = join(FIXTURES, 'node.supp');
const PACKAGE_ROOT = resolve(__dirname, '..');

interface ValgrindRecord {
  /** The record's first line, e.g. "40 bytes in 1 blocks are definitely lost in loss record 3 of 9". */
  header: string;
  /** Its "at"/"by" lines, innermost first. */
  frames: string[];
}

/** Splits a valgrind log (one process, --log-file) into its records. */
function parseValgrindLog(log: string): ValgrindRecord[] {
  const records: ValgrindRecord[] = [];
  let current: ValgrindRecord | undefined;
  for (const raw of log.split('\n')) {
    const m = /^==\d+==( ?)(.*)$/.exec(raw);
    if (!m) continue;
    const text = m[2];
    if (text.trim() === '') {
      current = undefined;
      continue;
    }
    const frame = /^\s+(at|by) (.*)$/.exec(text);
    if (frame) {
      current?.frames.push(frame[2]);
    } else if (!/^\s/.test(text)) {
      current = { header: text, frames: [] };
      records.push(current);
    }
  }
  return records;
}

/** A frame of ours: in the addon's .node file, a tidewatch:: function, or libbpf. */
function isOurFrame(frame: string): boolean {
  return /\(in [^)]*\/tidewatch\.node\)|\btidewatch::|libbpf\.so|\(libbpf\.c:/.test(frame);
}

interface LeakVerdict {
  /** Definitely-lost records whose stack passes through our code. */
  ours: ValgrindRecord[];
  /** Invalid read/write/free records whose stack passes through our code. */
  errors: ValgrindRecord[];
  /** Definitely-lost records of Node alone (reported, not failed on). */
  others: ValgrindRecord[];
}

function judge(log: string): LeakVerdict {
  const records = parseValgrindLog(log);
  const definite = records.filter((r) => / are definitely lost in loss record /.test(r.header));
  const invalid = records.filter((r) =>
    /^(Invalid (read|write|free)|Mismatched free|Source and destination overlap)/.test(r.header),
  );
  const ours = (r: ValgrindRecord) => r.frames.some(isOurFrame);
  return {
    ours: definite.filter(ours),
    errors: invalid.filter(ours),
    others: definite.filter((r) => !ours(r)),
  };
}

const show = (records: ValgrindRecord[]) =>
  records.map((r) => [r.header, ...r.frames.map((f) => `   ${f}`)].join('\n')).join('\n\n');

/** Runs `node args` under valgrind with the rule's options; the log is read back. */
async function underValgrind(
  dir: string,
  nodeArgs: string[],
  timeoutMs: number,
): Promise<{ run: ExecResult; log: string }> {
  const logFile = join(dir, 'valgrind.log');
  const run = await exec(
    'valgrind',
    [
      '--leak-check=full',
      '--errors-for-leak-kinds=definite',
      '--error-exitcode=99',
      '--num-callers=40',
      `--suppressions=${SUPPRESSIONS}`,
      `--log-file=${logFile}`,
      process.execPath,
      ...nodeArgs,
    ],
    { allowFailure: true, timeoutMs },
  );
  return { run, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' };
}

describe('the valgrind report rule', () => {
  const captured = readFileSync(join(FIXTURES, 'valgrind-leak.log'), 'utf8');

  it('finds the definite leak in our frames in a captured report', () => {
    const v = judge(captured);
    expect(v.ours).toHaveLength(1);
    expect(v.ours[0].header).toMatch(/^4,096 bytes in 1 blocks are definitely lost/);
    expect(v.ours[0].frames[1]).toMatch(/Leak \(in \/tmp\/twleak\/tidewatch\.node\)/);
    // The possibly-lost record of Node's inspector thread is not ours.
    expect(v.others).toEqual([]);
    expect(v.errors).toEqual([]);
  });

  it("passes Node's own definite losses and our possibly-lost records", () => {
    const log = [
      '==7== 40 bytes in 1 blocks are definitely lost in loss record 41 of 252',
      '==7==    at 0x5ECAF2F: operator new(unsigned long) (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)',
      '==7==    by 0xDFC953: node::inspector::Agent::Start() (in /usr/bin/node)',
      '==7== ',
      '==7== 64 bytes in 1 blocks are possibly lost in loss record 42 of 252',
      '==7==    at 0x5ECA7B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)',
      '==7==    by 0x2C0DC18F: bpf_object__load (in /usr/lib/x86_64-linux-gnu/libbpf.so.1.1.2)',
      '==7== ',
      '==7== Invalid read of size 8',
      '==7==    at 0x2C097487: tidewatch::(anonymous namespace)::OpenWorker::Run() (in /x/tidewatch.node)',
      '==7== ',
    ].join('\n');
    const v = judge(log);
    expect(v.ours).toEqual([]);
    expect(v.others.map((r) => r.header)).toEqual([
      '40 bytes in 1 blocks are definitely lost in loss record 41 of 252',
    ]);
    expect(v.errors).toHaveLength(1);
  });
});

describeKernel('the native addon under valgrind', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tw-leak-'));
    const ns = await net.namespace('leak');
    link = await net.link(net.host, ns);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('catches a leak in a throwaway addon of the same name (the check can fail)', async () => {
    const leaky = join(dir, 'leaky');
    mkdirSync(leaky);
    const source = join(leaky, 'leak.c');
    writeFileSync(
      source,
      `#include <node_api.h>
#include <stdlib.h>
#include <string.h>
static void *sink;
static napi_value Leak(napi_env env, napi_callback_info info)
{
	sink = malloc(4096);
	memset(sink, 1, 4096);
	sink = NULL;
	return NULL;
}
static napi_value Init(napi_env env, napi_value exports)
{
	napi_value f;
	napi_create_function(env, "leak", NAPI_AUTO_LENGTH, Leak, NULL, &f);
	napi_set_named_property(env, exports, "leak", f);
	return exports;
}
NAPI_MODULE(leak, Init)
`,
    );
    const nodedir = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'native', 'nodedir.js')], {
      encoding: 'utf8',
    });
    const addon = join(leaky, 'tidewatch.node');
    execFileSync('gcc', [
      '-shared',
      '-fPIC',
      '-O0',
      `-I${join(nodedir, 'include', 'node')}`,
      source,
      '-o',
      addon,
    ]);
    const { run, log } = await underValgrind(
      leaky,
      ['-e', `require(${JSON.stringify(addon)}).leak()`],
      60_000,
    );
    expect(run.code).toBe(99);
    const v = judge(log);
    expect(v.ours).toHaveLength(1);
    expect(v.ours[0].header).toMatch(/^4,096 bytes in 1 blocks are definitely lost/);
    expect(v.ours[0].frames.join('\n')).toContain(`Leak (in ${addon})`);
  });

  it(`leaks nothing in the addon or libbpf over ${CYCLES} cycles of every operation, both objects`, async () => {
    const dist = join(PACKAGE_ROOT, 'dist', 'index.js');
    expect(existsSync(dist)).toBe(true); // the fixture uses the built package
    const started = Date.now();
    const { run, log } = await underValgrind(
      dir,
      [
        '--expose-gc',
        join(FIXTURES, 'addon-cycles.js'),
        link.a.ifname,
        link.b.ipv4,
        String(CYCLES),
      ],
      VALGRIND_TIMEOUT_MS,
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    const v = judge(log);
    const message = [
      `valgrind exit ${run.code} after ${seconds} s; script output:\n${run.stdout}${run.stderr}`,
      `definitely lost in our code:\n${show(v.ours)}`,
      `memory errors in our code:\n${show(v.errors)}`,
      `Node's own definite losses (not judged):\n${show(v.others)}`,
      `end of the log:\n${log.split('\n').slice(-12).join('\n')}`,
    ].join('\n\n');
    // The script ran every cycle (not killed by the timeout), valgrind wrote
    // its leak summary, and exited 0 or with --error-exitcode (99 also
    // counts Node's and libbpf's uninitialised-syscall-byte reports).
    expect({
      done: `${run.stdout}${run.stderr}`.includes(`done ${CYCLES}`),
      summary: /LEAK SUMMARY|All heap blocks were freed/.test(log),
      exit: run.code === 0 || run.code === 99,
      ours: v.ours.length,
      errors: v.errors.length,
      message,
    }).toEqual({ done: true, summary: true, exit: true, ours: 0, errors: 0, message });
    // Nothing left on the interface by the script.
    expect((await exec('tc', ['filter', 'show', 'dev', link.a.ifname, 'ingress'])).stdout).toBe('');
  });
});
