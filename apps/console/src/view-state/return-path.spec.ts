import { safeReturnPath, signInPath } from './return-path';

describe('return path after sign-in', () => {
  it('keeps a console path with its search params', () => {
    expect(safeReturnPath('/en/hosts/abc?range=6h', 'en')).toBe('/en/hosts/abc?range=6h');
    expect(safeReturnPath('/zh-CN/fleet?selector=env%3Dprod', 'en')).toBe(
      '/zh-CN/fleet?selector=env%3Dprod',
    );
  });
  it('refuses other origins, protocol-relative URLs and loops back to sign-in', () => {
    for (const bad of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil',
      '/de/fleet',
      '/en/sign-in?next=/en/fleet',
      '',
      undefined,
    ]) {
      expect(safeReturnPath(bad, 'en')).toBe('/en');
    }
  });
  it('encodes where the user was', () => {
    expect(signInPath('zh-CN', '/zh-CN/hosts/a?range=1h')).toBe(
      '/zh-CN/sign-in?next=%2Fzh-CN%2Fhosts%2Fa%3Frange%3D1h',
    );
  });
});
