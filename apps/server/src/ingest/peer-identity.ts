import { CertificateMismatchError } from '../common/domain-errors';

/** The parts of a verified peer certificate (node's PeerCertificate) that can name an agent. */
export interface PeerCertificateLike {
  subject?: { CN?: string | string[] } | null;
  subjectaltname?: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The SAN URI form: urn:tidewatch:agent:<uuid>. */
export const AGENT_URI_PREFIX = 'urn:tidewatch:agent:';
const SAN_URI = new RegExp(`^URI:${AGENT_URI_PREFIX}(${UUID})$`, 'i');
const CN_UUID = new RegExp(`^${UUID}$`, 'i');

/**
 * The agent id a client certificate names: a SAN URI `urn:tidewatch:agent:<uuid>`,
 * else a subject CN that is a UUID; null when it names none (a certificate
 * shared by a fleet). Naming two different agents is refused.
 */
export function agentIdFromCertificate(cert: PeerCertificateLike | undefined): string | null {
  if (!cert) return null;
  const ids = new Set<string>();
  for (const entry of (cert.subjectaltname ?? '').split(/,\s*/)) {
    const m = SAN_URI.exec(entry.trim());
    if (m) ids.add(m[1].toLowerCase());
  }
  if (ids.size === 0) {
    for (const cn of [cert.subject?.CN ?? []].flat()) {
      if (CN_UUID.test(cn)) ids.add(cn.toLowerCase());
    }
  }
  if (ids.size > 1) {
    throw new CertificateMismatchError(
      `client certificate names several agents (${[...ids].join(', ')})`,
    );
  }
  return ids.size === 1 ? [...ids][0] : null;
}
