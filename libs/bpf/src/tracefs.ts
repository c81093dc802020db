import { readFileSync } from 'node:fs';

/** Where tracefs is usually mounted, newest first. */
export const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function readFormat(roots: string[], event = 'skb/kfree_skb'): string | null {
  for (const root of roots) {
    try {
      return readFileSync(`${root}/events/${event}/format`, 'utf8');
    } catch {
      // next root
    }
  }
  return null;
}

/**
 * Offset of the `reason` field in the skb/kfree_skb tracepoint record, read
 * from its format file; 0 when the kernel has no drop reasons (before 5.17)
 * or tracefs is not mounted.
 */
export function kfreeSkbReasonOffset(roots: string[] = TRACEFS_ROOTS): number {
  const format = readFormat(roots);
  return format ? parseReasonOffset(format) : 0;
}

/**
 * This kernel's names of enum skb_drop_reason ("NETFILTER_DROP", ...), read
 * from the print format of skb/kfree_skb: the numbers differ between kernels.
 */
export function kfreeSkbReasonNames(roots: string[] = TRACEFS_ROOTS): Map<number, string> {
  const format = readFormat(roots);
  return format ? parseReasonNames(format) : new Map();
}

/** The { N, "NAME" } pairs of the reason's __print_symbolic in a format file. */
export function parseReasonNames(format: string): Map<number, string> {
  const names = new Map<number, string>();
  const at = format.indexOf('__print_symbolic(REC->reason');
  if (at < 0) return names;
  for (const m of format.slice(at).matchAll(/\{\s*(\d+),\s*"([A-Z0-9_]+)"\s*\}/g)) {
    names.set(Number(m[1]), m[2]);
  }
  return names;
}

/** The offset of the field named `reason` in a tracepoint format, or 0. */
export function parseReasonOffset(format: string): number {
  const m = /field:[^;]*\breason;\s*offset:(\d+);\s*size:4;/.exec(format);
  return m ? Number(m[1]) : 0;
}

/** Offset of a field (plain or array) in a tracepoint format, or 0 when absent. */
export function parseFieldOffset(format: string, field: string): number {
  const re = new RegExp(`field:[^;]*[\\s*]${field}(\\[\\d+\\])?;\\s*offset:(\\d+);`);
  const m = re.exec(format);
  return m ? Number(m[2]) : 0;
}

/**
 * Offsets of the tracepoint fields whose place moved between kernels, for
 * tw_config (0: not found, the kernel side then assumes the 5.13+ layout).
 */
export function tracepointOffsets(roots: string[] = TRACEFS_ROOTS): {
  sockSaddr6: number;
  retransSport: number;
  retransSaddr6: number;
} {
  const sock = readFormat(roots, 'sock/inet_sock_set_state') ?? '';
  const retrans = readFormat(roots, 'tcp/tcp_retransmit_skb') ?? '';
  return {
    sockSaddr6: parseFieldOffset(sock, 'saddr_v6'),
    retransSport: parseFieldOffset(retrans, 'sport'),
    retransSaddr6: parseFieldOffset(retrans, 'saddr_v6'),
  };
}
