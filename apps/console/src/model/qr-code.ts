import { create } from 'qrcode';

// The QR code of a TOTP enrolment's otpauth:// URI, for an authenticator app's camera. The
// `qrcode` package encodes it (byte mode, error correction M); the matrix is drawn here as one
// SVG path, so nothing is fetched and no HTML is injected.

/** Modules of light margin on each side: the quiet zone the QR specification asks for. */
export const QUIET_ZONE = 4;

export interface QrDrawing {
  /** Modules across, quiet zone included (the SVG's viewBox is size × size). */
  size: number;
  /** The dark modules as an SVG path, one module = one unit. */
  path: string;
}

/** The QR code of `text` as an SVG path: each row's runs of dark modules as rectangles. */
export function qrDrawing(text: string): QrDrawing {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const runs: string[] = [];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n;) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.get(row, col)) col++;
      runs.push(`M${start + QUIET_ZONE} ${row + QUIET_ZONE}h${col - start}v1h-${col - start}z`);
    }
  }
  return { size: n + 2 * QUIET_ZONE, path: runs.join('') };
}
