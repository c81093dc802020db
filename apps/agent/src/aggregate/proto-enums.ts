import type {
  Direction__Output,
  Family__Output,
  Protocol__Output,
  MaskingMode__Output,
} from '@tidewatch/proto';
import type { DirectionName, FamilyName, ProtocolName } from '../collector/collector';
import type { MaskingModeName } from '../config/schema';

export const DIRECTION_ENUM: Record<DirectionName, Direction__Output> = {
  ingress: 'DIRECTION_INGRESS',
  egress: 'DIRECTION_EGRESS',
};

export const FAMILY_ENUM: Record<FamilyName, Family__Output> = {
  ipv4: 'FAMILY_IPV4',
  ipv6: 'FAMILY_IPV6',
  other: 'FAMILY_OTHER',
};

export const PROTOCOL_ENUM: Record<ProtocolName, Protocol__Output> = {
  tcp: 'PROTOCOL_TCP',
  udp: 'PROTOCOL_UDP',
  icmp: 'PROTOCOL_ICMP',
  icmpv6: 'PROTOCOL_ICMPV6',
  other: 'PROTOCOL_OTHER',
};

export const MASKING_ENUM: Record<MaskingModeName, MaskingMode__Output> = {
  none: 'MASKING_NONE',
  truncate: 'MASKING_TRUNCATE',
  pseudonymize: 'MASKING_PSEUDONYMIZE',
};

/** Protocol class of an IP protocol number, as the kernel side classifies packets. */
export function protocolOf(ipProto: number, family: FamilyName): ProtocolName {
  if (family === 'other') return 'other';
  if (ipProto === 6) return 'tcp';
  if (ipProto === 17) return 'udp';
  if (ipProto === 1) return 'icmp';
  if (ipProto === 58) return 'icmpv6';
  return 'other';
}

export function directionName(e: Direction__Output): DirectionName | undefined {
  return e === 'DIRECTION_INGRESS' ? 'ingress' : e === 'DIRECTION_EGRESS' ? 'egress' : undefined;
}

export function protocolName(e: Protocol__Output): ProtocolName | undefined {
  for (const [name, value] of Object.entries(PROTOCOL_ENUM)) {
    if (value === e) return name as ProtocolName;
  }
  return undefined;
}
