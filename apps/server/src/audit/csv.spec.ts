import { csvCell, csvRow } from './csv';

describe('csvCell', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['a,b', '"a,b"'],
    ['line\nbreak', '"line\nbreak"'],
    ['审计', '审计'],
    ['', ''],
  ])('%j → %j', (input, out) => expect(csvCell(input)).toBe(out));

  it('leaves numbers and nulls plain', () => {
    expect(csvRow([12, null, 'x'])).toBe('12,,x\r\n');
  });
});
