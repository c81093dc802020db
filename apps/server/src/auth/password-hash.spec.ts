import { hashPassword, needsRehash, parsePasswordHash, verifyPassword } from './password-hash';

describe('scrypt password hashes (PHC strings)', () => {
  it('hashes at N=2^17, r=8, p=1 by default and verifies only the right password', async () => {
    const phc = await hashPassword('correct horse battery');
    expect(phc).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse battery', phc)).toBe(true);
    expect(await verifyPassword('correct horse batterY', phc)).toBe(false);
    expect(needsRehash(phc)).toBe(false);
  });

  it('salts every hash', async () => {
    const params = { ln: 10, r: 8, p: 1 };
    expect(await hashPassword('same', params)).not.toEqual(await hashPassword('same', params));
  });

  it('asks for a rehash when the parameters differ, and refuses malformed strings', async () => {
    const weak = await hashPassword('pw', { ln: 12, r: 8, p: 1 });
    expect(parsePasswordHash(weak)?.params).toEqual({ ln: 12, r: 8, p: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(await verifyPassword('pw', weak)).toBe(true);
    expect(await verifyPassword('pw', '$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA')).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });
});
