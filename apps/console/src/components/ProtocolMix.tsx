import type { Schemas } from '../api/client';
import { formatBytes, formatCount, formatPercent } from '../format/units';

export interface MixWords {
  protocol: string;
  packets: string;
  bytes: string;
  share: string;
  caption: string;
  names: Record<string, string>;
}

/** Packets and bytes per protocol class (both directions added), exact, with shares of bytes. */
export function ProtocolMix({
  items,
  locale,
  words,
}: {
  items: Schemas['SummaryItem'][];
  locale: string;
  words: MixWords;
}) {
  const by = new Map<string, { packets: bigint; bytes: bigint }>();
  for (const i of items) {
    const m = by.get(i.protocol) ?? { packets: 0n, bytes: 0n };
    m.packets += BigInt(i.packets);
    m.bytes += BigInt(i.bytes);
    by.set(i.protocol, m);
  }
  const total = [...by.values()].reduce((a, m) => a + m.bytes, 0n);
  const rows = [...by.entries()].sort((a, b) =>
    b[1].bytes > a[1].bytes ? 1 : b[1].bytes < a[1].bytes ? -1 : 0,
  );
  return (
    <table data-testid="protocol-mix">
      <caption className="muted" style={{ textAlign: 'left' }}>
        {words.caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">{words.protocol}</th>
          <th scope="col" className="num">
            {words.packets}
          </th>
          <th scope="col" className="num">
            {words.bytes}
          </th>
          <th scope="col" className="num">
            {words.share}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([p, m]) => (
          <tr key={p} data-protocol={p}>
            <th scope="row">{words.names[p] ?? p}</th>
            <td className="num">{formatCount(locale, m.packets)}</td>
            <td className="num" title={`${formatCount(locale, m.bytes)} B`}>
              {formatCount(locale, m.bytes)}{' '}
              <span className="muted">({formatBytes(locale, m.bytes.toString())})</span>
            </td>
            <td className="num">{formatPercent(locale, m.bytes, total)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
