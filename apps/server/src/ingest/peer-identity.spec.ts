import { CertificateMismatchError } from '../common/domain-errors';
import { agentIdFromCertificate } from './peer-identity';

const A = '0b5c6c6e-3c0a-4d5b-9c3e-8f5f1e2a3b4c';
const B = '11111111-1111-4111-8111-111111111111';

describe('agentIdFromCertificate', () => {
  it('reads the SAN URI first, then a UUID common name', () => {
    expect(
      agentIdFromCertificate({
        subject: { CN: 'db-1' },
        subjectaltname: `DNS:db-1, URI:urn:tidewatch:agent:${A.toUpperCase()}`,
      }),
    ).toBe(A);
    expect(agentIdFromCertificate({ subject: { CN: B } })).toBe(B);
    expect(
      agentIdFromCertificate({
        subject: { CN: B },
        subjectaltname: `URI:urn:tidewatch:agent:${A}`,
      }),
    ).toBe(A);
  });

  it('answers null for a certificate that names no agent', () => {
    expect(agentIdFromCertificate(undefined)).toBeNull();
    expect(
      agentIdFromCertificate({ subject: { CN: 'fleet' }, subjectaltname: 'URI:spiffe://x/y' }),
    ).toBeNull();
  });

  it('refuses a certificate naming two agents', () => {
    expect(() =>
      agentIdFromCertificate({
        subjectaltname: `URI:urn:tidewatch:agent:${A}, URI:urn:tidewatch:agent:${B}`,
      }),
    ).toThrow(CertificateMismatchError);
  });
});
