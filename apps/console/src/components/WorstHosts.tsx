import { Link } from '../i18n/navigation';
import { formatBytes, formatCount } from '../format/units';

export interface RankedHost {
  agentId: string;
  hostname: string;
  /** The exact figure ranked by (a decimal string or a count). */
  value: string | number;
}

/**
 * One "worst N" list of the fleet page: the server's ranking, highest first, each host a link
 * to its page over the same range; bytes also humanised beside the exact figure.
 */
export function WorstHosts({
  title,
  hostLabel,
  valueLabel,
  items,
  bytes = false,
  hostHref,
  locale,
  none,
  testId,
}: {
  title: string;
  hostLabel: string;
  valueLabel: string;
  items: RankedHost[];
  bytes?: boolean;
  hostHref: (agentId: string) => string;
  locale: string;
  none: string;
  testId: string;
}) {
  return (
    <section className="card" aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {items.length ? (
        <table aria-label={title}>
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">{hostLabel}</th>
              <th scope="col" className="num">
                {valueLabel}
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((h, i) => (
              <tr key={h.agentId} data-ranked-agent-id={h.agentId}>
                <td className="num">{formatCount(locale, i + 1)}</td>
                <th scope="row">
                  <Link href={hostHref(h.agentId)}>{h.hostname}</Link>
                </th>
                <td className="num" data-testid="worst-value">
                  {formatCount(locale, h.value)}
                  {bytes ? <span className="muted"> ({formatBytes(locale, h.value)})</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{none}</p>
      )}
    </section>
  );
}
