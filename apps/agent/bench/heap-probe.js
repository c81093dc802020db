// Preloaded into the agent by bench:agent's memory run (node -r): each second,
// the V8 heap in use (live objects and garbage not yet collected) written to
// BENCH_HEAP_FILE; on SIGUSR2, a full collection first (node --expose-gc), so
// the line written then is the live heap. Bench only; the agent never loads it.
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  const write = (kind) => {
    const h = v8.getHeapStatistics();
    const line = JSON.stringify({
      kind,
      at: Date.now(),
      usedHeap: h.used_heap_size,
      totalHeap: h.total_heap_size,
      external: h.external_memory,
      arrayBuffers: process.memoryUsage().arrayBuffers,
    });
    fs.appendFileSync(file, `${line}\n`);
  };
  setInterval(() => write('tick'), 1000).unref();
  process.on('SIGUSR2', () => {
    if (typeof global.gc === 'function') global.gc();
    write('live');
  });
}
