import { execFileSync } from 'node:child_process';
import { COMPACT_HEAP_FLAGS, applyCompactHeap } from './heap-tuning';

/**
 * In a fresh node: the flags set after start (as the agent's `run` does), then
 * a window-like load (a tenth of the objects kept until the next round), and
 * the largest young generation and heap V8 reached.
 */
function heapUnder(flags: string[]): { newSpaceMb: number; totalHeapMb: number } {
  const script = `
const v8 = require('node:v8');
for (const f of ${JSON.stringify(flags)}) v8.setFlagsFromString(f);
let keep = [], newSpace = 0, total = 0;
for (let w = 0; w < 20; w++) {
  keep = [];
  for (let i = 0; i < 100000; i++) {
    const o = { a: 'x' + i, b: Buffer.from([1, 2, 3, 4]), n: BigInt(i) };
    if (i % 10 === 0) keep.push(o);
  }
  total = Math.max(total, v8.getHeapStatistics().total_heap_size);
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  newSpace = Math.max(newSpace, ns.space_size);
}
console.log(JSON.stringify({ newSpaceMb: newSpace / 1048576, totalHeapMb: total / 1048576 }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

describe('compact heap', () => {
  it("this Node's V8 honours the flags set after start: a 2 MiB young generation and a smaller heap", () => {
    const defaults = heapUnder([]);
    const compact = heapUnder(COMPACT_HEAP_FLAGS);
    expect(defaults.newSpaceMb).toBeGreaterThan(2);
    expect(compact.newSpaceMb).toBeLessThanOrEqual(2);
    expect(compact.totalHeapMb).toBeLessThan(defaults.totalHeapMb / 2);
  });

  it('TIDEWATCH_COMPACT_HEAP=0 leaves the defaults', () => {
    expect(applyCompactHeap({ TIDEWATCH_COMPACT_HEAP: '0' })).toEqual([]);
  });
});
