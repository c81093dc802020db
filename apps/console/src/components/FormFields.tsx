import type { TimeRange } from '../view-state/range';

// Fields several GET forms and change forms share. Plain markup: usable from server and client
// components alike.

/** The range a GET form keeps when it is submitted: the preset, or both absolute ends. */
export function RangeHidden({ range }: { range: TimeRange }) {
  return range.preset ? (
    <input type="hidden" name="range" value={range.preset} />
  ) : (
    <>
      <input type="hidden" name="from" value={range.from.toISOString()} />
      <input type="hidden" name="to" value={range.to.toISOString()} />
    </>
  );
}

/** A host by name (the value its agent id); the empty choice first, named by `allLabel`. */
export function HostSelect({
  id,
  name = id,
  hosts,
  defaultValue,
  allLabel,
}: {
  id: string;
  name?: string;
  hosts: readonly { agentId: string; hostname: string }[];
  defaultValue?: string;
  allLabel: string;
}) {
  return (
    <select id={id} name={name} defaultValue={defaultValue ?? ''}>
      <option value="">{allLabel}</option>
      {hosts.map((h) => (
        <option key={h.agentId} value={h.agentId}>
          {h.hostname}
        </option>
      ))}
    </select>
  );
}
