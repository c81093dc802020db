import jsQR from 'jsqr';
import { QUIET_ZONE, qrDrawing } from './qr-code';

/** The drawing as an RGBA image, `scale` pixels a module, dark on white: as a camera sees it. */
function raster(d: { size: number; path: string }, scale: number) {
  const w = d.size * scale;
  const data = new Uint8ClampedArray(w * w * 4).fill(255);
  for (const m of d.path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    const [x, y, len] = [Number(m[1]), Number(m[2]), Number(m[3])];
    for (let py = y * scale; py < (y + 1) * scale; py++) {
      for (let px = x * scale; px < (x + len) * scale; px++) {
        data.fill(0, (py * w + px) * 4, (py * w + px) * 4 + 3);
      }
    }
  }
  return { data, w };
}

describe('qrDrawing', () => {
  it.each([
    'otpauth://totp/Tidewatch:sec-e2e-secadmin?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&period=30&digits=6&algorithm=SHA1&issuer=Tidewatch',
    'otpauth://totp/Tidewatch:%E5%BC%A0%E4%B8%89%40bank.example?secret=KRUGKIDROVUWG2ZAMJZG653OEBTG66BA&issuer=Tidewatch',
  ])('draws a QR code a decoder reads back as exactly the text: %s', (uri) => {
    const d = qrDrawing(uri);
    // The path is nothing but whole-module rectangles, all inside the quiet zone.
    expect(d.path.replace(/M\d+ \d+h\d+v1h-\d+z/g, '')).toBe('');
    const cells = [...d.path.matchAll(/M(\d+) (\d+)h(\d+)/g)].map((m) => m.slice(1).map(Number));
    expect(cells.length).toBeGreaterThan(0);
    for (const [x, y, len] of cells) {
      expect([x >= QUIET_ZONE, y >= QUIET_ZONE, x + len <= d.size - QUIET_ZONE]).toEqual([
        true,
        true,
        true,
      ]);
      expect(y).toBeLessThan(d.size - QUIET_ZONE);
    }
    const { data, w } = raster(d, 3);
    expect(jsQR(data, w, w)?.data).toBe(uri);
  });

  it('draws a different code for a different secret', () => {
    const a = qrDrawing('otpauth://totp/Tidewatch:a?secret=AAAAAAAAAAAAAAAA&issuer=Tidewatch');
    const b = qrDrawing('otpauth://totp/Tidewatch:a?secret=AAAAAAAAAAAAAAAB&issuer=Tidewatch');
    expect(a.path).not.toBe(b.path);
  });
});
