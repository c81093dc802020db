/** Formats the 16-byte address fields of tidewatch.h records. */

/**
 * The address bytes of a record field as they are on the wire: the first 4
 * of the 16 for IPv4 (a view, not a copy), all 16 for IPv6, none otherwise.
 */
export function addressBytes(field: Buffer, family: number): Buffer {
  if (family === 0) return field.subarray(0, 4);
  if (family === 1) return field.length === 16 ? field : field.subarray(0, 16);
  return field.subarray(0, 0);
}

/** IPv4 uses the first 4 bytes; IPv6 all 16, printed in RFC 5952 form. */
export function formatAddress(bytes: Uint8Array, family: number): string {
  if (family === 0) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (family !== 1) return '';
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // Longest run (of 2 or more) of zero groups becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}
