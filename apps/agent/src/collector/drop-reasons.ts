import { readFileSync } from 'node:fs';

const FORMATS = [
  '/sys/kernel/tracing/events/skb/kfree_skb/format',
  '/sys/kernel/debug/tracing/events/skb/kfree_skb/format',
];

/**
 * Names of this kernel's drop reasons (enum skb_drop_reason), from the
 * __print_symbolic table in the kfree_skb tracepoint format; empty before 5.17.
 */
export function dropReasonNames(files = FORMATS): Map<number, string> {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    return parseDropReasons(text);
  }
  return new Map();
}

export function parseDropReasons(format: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /\{\s*(\d+)\s*,\s*"([A-Z0-9_]+)"\s*\}/g;
  for (let m = re.exec(format); m; m = re.exec(format)) out.set(Number(m[1]), m[2]);
  return out;
}
