import type { FamilyName, ProtocolName } from '../collector/port';

// The one short-name ↔ wire mapping, shared with the server and fleet-sim.
export {
  DIRECTION_WIRE as DIRECTION_ENUM,
  FAMILY_WIRE as FAMILY_ENUM,
  PROTOCOL_WIRE as PROTOCOL_ENUM,
  MASKING_WIRE as MASKING_ENUM,
  directionName,
  protocolName,
} from '@tidewatch/proto';

/** Protocol class of an IP protocol number, as the kernel side classifies packets. */
export function protocolOf(ipProto: number, family: FamilyName): ProtocolName {
  if (family === 'other') return 'other';
  if (ipProto === 6) return 'tcp';
  if (ipProto === 17) return 'udp';
  if (ipProto === 1) return 'icmp';
  if (ipProto === 58) return 'icmpv6';
  return 'other';
}
