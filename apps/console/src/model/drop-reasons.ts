/**
 * A drop reason as the catalogs key it: the kernel's `enum skb_drop_reason` name without its
 * `SKB_DROP_REASON_` prefix (agents send it either way), or "unknown".
 */
export function dropReasonKey(raw: string): string {
  const name = raw.trim().replace(/^SKB_DROP_REASON_/i, '');
  return name.toLowerCase() === 'unknown' ? 'unknown' : name.toUpperCase();
}
