import { formatChange } from './change';

describe('formatChange', () => {
  it('signs every change but none, in both locales', () => {
    expect(formatChange('en', 0.25)).toBe('+25%');
    expect(formatChange('en', -0.6666)).toBe('-66.7%');
    expect(formatChange('en', 0)).toBe('0%');
    expect(formatChange('zh-CN', 1.5)).toBe('+150%');
    expect(formatChange('zh-CN', -0.0012)).toBe('-0.1%');
  });
});
