import type { Batch__Output } from '@tidewatch/proto';
import { InvalidInputError } from '../common/domain-errors';
import { PROTOCOLS, wireCode } from '../storage/codes';
import type {
  NormalizedFanout,
  NormalizedListening,
  NormalizedScan,
} from '../storage/normalized-batch';

// The detectors' inputs of one window (Batch.scan, Batch.listening), checked
// field by field. Bounded: a sender that exceeds the bounds is refused.

export const MAX_SCAN_ENTRIES = 256;
export const MAX_LISTENING = 2048;

const n = (path: string, v: number | undefined): number => {
  const x = v ?? 0;
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new InvalidInputError(`${path} must be a non-negative integer below 2^53, got ${x}`);
  }
  return x;
};
const port = (path: string, v: number | undefined): number => {
  const x = n(path, v);
  if (x > 65535) throw new InvalidInputError(`${path} must be 0..65535`);
  return x;
};
const addr = (path: string, v: string | undefined): string => {
  const s = v ?? '';
  if (typeof s !== 'string' || s.length > 128 || s.includes('\u0000')) {
    throw new InvalidInputError(`${path} must be a string of at most 128 characters`);
  }
  return s;
};
const proto = (path: string, v: string | number | null | undefined): number => {
  const code = wireCode(PROTOCOLS, v);
  if (code < 0) throw new InvalidInputError(`${path} has an unknown value ${String(v)}`);
  return code;
};
const bounded = <T>(path: string, list: T[] | undefined, max: number): T[] => {
  const l = list ?? [];
  if (l.length > max) throw new InvalidInputError(`${path} has more than ${max} entries`);
  return l;
};

type Fanout = NonNullable<NonNullable<Batch__Output['scan']>['otherSources']>;

function fanout(path: string, f: Fanout): NormalizedFanout {
  const out = {
    src: addr(`${path}.src`, f.src),
    protocol: proto(`${path}.protocol`, f.protocol),
    pairs: n(`${path}.pairs`, f.pairs),
    destinations: n(`${path}.destinations`, f.destinations),
    ports: n(`${path}.ports`, f.ports),
    refused: n(`${path}.refused`, f.refused),
    unanswered: n(`${path}.unanswered`, f.unanswered),
    topDestination: addr(`${path}.top_destination`, f.topDestination),
    topDestinationPorts: n(`${path}.top_destination_ports`, f.topDestinationPorts),
    topDestinationRefused: n(`${path}.top_destination_refused`, f.topDestinationRefused),
    topPort: port(`${path}.top_port`, f.topPort),
    topPortDestinations: n(`${path}.top_port_destinations`, f.topPortDestinations),
    topPortFailed: n(`${path}.top_port_failed`, f.topPortFailed),
    recentTopDestination: addr(`${path}.recent_top_destination`, f.recentTopDestination),
    recentTopDestinationFailed: n(
      `${path}.recent_top_destination_failed`,
      f.recentTopDestinationFailed,
    ),
    recentTopPort: port(`${path}.recent_top_port`, f.recentTopPort),
    recentTopPortFailed: n(`${path}.recent_top_port_failed`, f.recentTopPortFailed),
  };
  if (out.refused + out.unanswered > out.pairs) {
    throw new InvalidInputError(`${path}: refused + unanswered exceed pairs`);
  }
  if (
    out.topDestinationRefused > out.topDestinationPorts ||
    out.topPortFailed > out.topPortDestinations
  ) {
    throw new InvalidInputError(`${path}: failed attempts exceed attempts`);
  }
  return out;
}

export function validateScan(s: Batch__Output['scan']): NormalizedScan | null {
  if (!s) return null;
  return {
    sources: bounded('scan.sources', s.sources, MAX_SCAN_ENTRIES).map((f, i) =>
      fanout(`scan.sources[${i}]`, f),
    ),
    sweeps: bounded('scan.sweeps', s.sweeps, MAX_SCAN_ENTRIES).map((w, i) => ({
      port: port(`scan.sweeps[${i}].port`, w.port),
      protocol: proto(`scan.sweeps[${i}].protocol`, w.protocol),
      destinations: n(`scan.sweeps[${i}].destinations`, w.destinations),
      sources: n(`scan.sweeps[${i}].sources`, w.sources),
      topSource: addr(`scan.sweeps[${i}].top_source`, w.topSource),
      topSourceDestinations: n(
        `scan.sweeps[${i}].top_source_destinations`,
        w.topSourceDestinations,
      ),
    })),
    syns: bounded('scan.syns', s.syns, MAX_SCAN_ENTRIES).map((y, i) => ({
      port: port(`scan.syns[${i}].port`, y.port),
      syns: n(`scan.syns[${i}].syns`, y.syns),
      attempts: n(`scan.syns[${i}].attempts`, y.attempts),
      halfOpen: n(`scan.syns[${i}].half_open`, y.halfOpen),
      refused: n(`scan.syns[${i}].refused`, y.refused),
      sources: n(`scan.syns[${i}].sources`, y.sources),
    })),
    sourcesTotal: n('scan.sources_total', s.sourcesTotal),
    sourcesTruncated: !!s.sourcesTruncated,
    otherSources: s.otherSources ? fanout('scan.other_sources', s.otherSources) : null,
    sweepsTruncated: !!s.sweepsTruncated,
    synsTruncated: !!s.synsTruncated,
    recentSeconds: recentSeconds(s.recentSeconds),
  };
}

/** A day at most: the detectors' longest reference window is 10 minutes. */
function recentSeconds(v: number | undefined): number {
  const x = n('scan.recent_seconds', v);
  if (x > 86_400) throw new InvalidInputError('scan.recent_seconds must be at most 86400');
  return x;
}

export function validateListening(l: Batch__Output['listening']): NormalizedListening | null {
  if (!l || !l.known) return null;
  return {
    ports: bounded('listening.ports', l.ports, MAX_LISTENING).map((p, i) => {
      const protocol = proto(`listening.ports[${i}].protocol`, p.protocol);
      return {
        port: port(`listening.ports[${i}].port`, p.port),
        protocol,
        loopbackOnly: !!p.loopbackOnly,
      };
    }),
    truncated: !!l.truncated,
  };
}
