import { DIRECTION_NAMES, FAMILY_NAMES, PROTOCOL_NAMES } from '@tidewatch/proto';

// @tidewatch/bpf is loaded lazily everywhere but in the adapter (see open.ts).
const bpf = () => import('@tidewatch/bpf');

// The kernel side names its classes (held to tidewatch.h by libs/bpf's
// layout.spec.ts); the agent passes those names on as the contract's short
// names (held to ingest.proto by libs/proto's names.spec.ts). This ties the two.
describe('kernel names are the contract’s names', () => {
  it('directions, families, protocol classes', async () => {
    const { DIRECTIONS, FAMILIES, PROTOCOLS } = await bpf();
    expect([...DIRECTIONS].sort()).toEqual([...DIRECTION_NAMES].sort());
    expect([...FAMILIES].sort()).toEqual([...FAMILY_NAMES].sort());
    expect([...PROTOCOLS].sort()).toEqual([...PROTOCOL_NAMES].sort());
  });

  it('every kernel error counter has a name, tp_layout included', async () => {
    const { ERROR_KEYS, ERROR_NAMES } = await bpf();
    expect(ERROR_KEYS.map((k) => ERROR_NAMES[k])).toContain('tp_layout');
    expect(new Set(Object.values(ERROR_NAMES)).size).toBe(ERROR_KEYS.length);
  });
});
