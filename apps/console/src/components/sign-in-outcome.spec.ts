import { signInOutcome } from './sign-in-outcome';

describe('sign-in answers (DESIGN.md login contract)', () => {
  it('signs in on 200 and passes mustChangePassword on', () => {
    expect(signInOutcome(200, { accessToken: 'x', mustChangePassword: true }, false)).toEqual({
      kind: 'signedIn',
      mustChangePassword: true,
    });
  });
  it('asks for the TOTP code when the server says it is required, then reports a bad code', () => {
    expect(signInOutcome(401, { statusCode: 401, message: 'TOTP code required' }, false)).toEqual({
      kind: 'needTotp',
    });
    expect(signInOutcome(401, { statusCode: 401, message: 'invalid TOTP code' }, true)).toEqual({
      kind: 'badTotp',
    });
  });
  it('gives the same answer for any bad credentials, and says when locked', () => {
    expect(signInOutcome(401, { statusCode: 401, message: 'invalid credentials' }, false)).toEqual({
      kind: 'badCredentials',
    });
    expect(signInOutcome(401, null, false)).toEqual({ kind: 'badCredentials' });
    expect(signInOutcome(423, {}, false)).toEqual({ kind: 'locked' });
    expect(signInOutcome(429, {}, false)).toEqual({ kind: 'throttled' });
    expect(signInOutcome(502, {}, false)).toEqual({ kind: 'unavailable' });
  });
});
