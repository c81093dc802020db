import path from 'node:path';
import { catalogs } from '../messages';
import {
  allowedSteps,
  ANOMALY_STATUSES,
  ANOMALY_TYPES,
  parseAnomalyFilters,
  SEVERITIES,
} from './anomaly-names';

// The built server's lists are the source (apps/server/src/anomalies/anomaly-types.ts).
const serverDist =
  process.env.TIDEWATCH_SERVER_DIST || path.resolve(__dirname, '../../../server/dist');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the built server, at run time
const server = require(path.join(serverDist, 'anomalies', 'anomaly-types.js')) as {
  ANOMALY_TYPES: string[];
  SEVERITIES: string[];
  ANOMALY_STATUSES: string[];
};

describe('anomaly names', () => {
  it('are the server’s, in its order', () => {
    expect([...ANOMALY_TYPES]).toEqual(server.ANOMALY_TYPES);
    expect([...SEVERITIES]).toEqual(server.SEVERITIES);
    expect([...ANOMALY_STATUSES]).toEqual(server.ANOMALY_STATUSES);
  });
  it('each has a name in both catalogs', () => {
    for (const c of [catalogs['zh-CN'], catalogs.en]) {
      expect(Object.keys(c.anomalies.typeName)).toEqual([...ANOMALY_TYPES]);
      expect(Object.keys(c.anomalies.severityName)).toEqual([...SEVERITIES]);
      expect(Object.keys(c.anomalies.statusName)).toEqual([...ANOMALY_STATUSES]);
    }
  });
  it('filters from the URL keep only valid values', () => {
    expect(
      parseAnomalyFilters({
        agentId: '6F1C2B0E-5D4A-4C3B-8A29-00000000000A',
        type: 'port_scan',
        severity: 'bogus',
        status: 'open',
        offset: '120',
      }),
    ).toEqual({
      agentId: '6f1c2b0e-5d4a-4c3b-8a29-00000000000a',
      type: 'port_scan',
      severity: undefined,
      status: 'open',
      offset: 100,
    });
    expect(parseAnomalyFilters({ agentId: 'x', offset: '-5' })).toEqual({
      agentId: undefined,
      type: undefined,
      severity: undefined,
      status: undefined,
      offset: 0,
    });
  });
  it('offers only the steps the server allows from each status', () => {
    expect(ANOMALY_STATUSES.map(allowedSteps)).toEqual([
      ['acknowledge', 'resolve', 'suppress'],
      ['resolve', 'suppress'],
      [],
      ['resolve'],
    ]);
  });
});
