import { homePath, mayCall, mayWatchLive } from './roles';

// The table is generated from the built server's @Roles; these are the declarations the
// console's pages rely on (issue 9's roles), so a change on the server shows up here.
describe('role checks from the server declarations', () => {
  it('only operators handle anomalies; every role reads them', () => {
    for (const role of ['sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer']) {
      expect([role, mayCall(role, 'GET /api/v1/anomalies')]).toEqual([role, true]);
      expect([role, mayCall(role, 'POST /api/v1/anomalies/{id}/acknowledge')]).toEqual([
        role,
        role === 'operator',
      ]);
    }
  });
  it('only auditadmin reads the audit trail; the live feed is for traffic readers', () => {
    expect(
      ['viewer', 'operator', 'auditadmin'].map((r) => mayCall(r, 'GET /api/v1/audit')),
    ).toEqual([false, false, true]);
    expect(['viewer', 'auditadmin'].map(mayWatchLive)).toEqual([true, false]);
  });
  it('starts each role on a page it may open', () => {
    const homes = ['sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer', null].map(homePath);
    expect(homes).toEqual([
      '/admin/enrollment-tokens',
      '/admin/users',
      '/audit',
      '/fleet',
      '/fleet',
      '/fleet',
    ]);
    // The administrator roles may not read traffic: the fleet page is not theirs.
    expect(
      ['sysadmin', 'secadmin', 'auditadmin'].map((r) => mayCall(r, 'GET /api/v1/traffic/summary')),
    ).toEqual([false, false, false]);
  });
});
