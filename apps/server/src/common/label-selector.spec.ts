import { parseLabelSelector } from './label-selector';

describe('parseLabelSelector', () => {
  it('parses key=value pairs', () => {
    expect(parseLabelSelector('env=prod, role=db')).toEqual({ env: 'prod', role: 'db' });
    expect(parseLabelSelector('team=')).toEqual({ team: '' });
  });

  it('names the parameter when the text is wrong', () => {
    expect(() => parseLabelSelector('env', 'selector')).toThrow(/selector must be key=value/);
  });
});
