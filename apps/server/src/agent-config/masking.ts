// Masking modes: the wire enum names <-> the short names the REST API uses.

export const WIRE_MASKING = [
  'MASKING_UNSPECIFIED',
  'MASKING_NONE',
  'MASKING_TRUNCATE',
  'MASKING_PSEUDONYMIZE',
] as const;
export const API_MASKING = ['unspecified', 'none', 'truncate', 'pseudonymize'] as const;

export type WireMasking = (typeof WIRE_MASKING)[number];
export type ApiMasking = (typeof API_MASKING)[number];

export function toWireMasking(m: ApiMasking): WireMasking {
  return WIRE_MASKING[API_MASKING.indexOf(m)];
}

export function toApiMasking(m: string): ApiMasking {
  const i = WIRE_MASKING.indexOf(m as WireMasking);
  return API_MASKING[i < 0 ? 0 : i];
}
