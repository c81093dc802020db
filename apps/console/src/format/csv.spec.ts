import { toCsv } from './csv';

describe('toCsv', () => {
  it('starts with the BOM, ids first, one CRLF line per row', () => {
    expect(
      toCsv(
        ['id', 'name'],
        [
          ['1', 'a'],
          ['2', 'b'],
        ],
      ),
    ).toBe('\ufeffid,name\r\n1,a\r\n2,b\r\n');
  });
  it('quotes commas, quotes and line breaks, and keeps Chinese as is', () => {
    expect(toCsv(['v'], [['a,b'], ['say "hi"'], ['x\ny'], ['每日报表']])).toBe(
      '\ufeffv\r\n"a,b"\r\n"say ""hi"""\r\n"x\ny"\r\n每日报表\r\n',
    );
  });
  it('an empty table is the header alone', () => {
    expect(toCsv(['a', 'b'], [])).toBe('\ufeffa,b\r\n');
  });
});
