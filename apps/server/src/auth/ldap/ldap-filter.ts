// RFC 4515 filter values and RFC 4514 DN comparison: what an LDAP query built
// from a user's input needs so that the input stays data, never filter syntax.

/** Escapes a value for an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Fills `{name}` placeholders of a configured filter template with escaped
 * values; a placeholder without a value is a programming error.
 */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`LDAP filter placeholder {${name}} has no value`);
    return escapeFilterValue(v);
  });
}

/**
 * A DN in a comparable form: attribute types and values lower-cased, spaces
 * around `,` `=` `+` removed, hex escapes of printable characters decoded.
 * Directories (AD in particular) do not keep the case the operator typed.
 */
export function normalizeDn(dn: string): string {
  const rdns: string[] = [];
  let cur = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === '\\' && i + 1 < dn.length) {
      const hex = /^[0-9a-fA-F]{2}/.exec(dn.slice(i + 1, i + 3));
      if (hex) {
        const ch = String.fromCharCode(parseInt(hex[0], 16));
        // Keep special characters escaped (one canonical form), decode the rest.
        cur += /[,=+<>#;"\\ ]/.test(ch) || ch < ' ' ? `\\${hex[0].toLowerCase()}` : ch;
        i += 2;
      } else {
        cur += `\\${dn[i + 1].charCodeAt(0).toString(16).padStart(2, '0')}`;
        i += 1;
      }
    } else if (c === ',' || c === ';') {
      rdns.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  rdns.push(cur);
  return rdns
    .map((rdn) =>
      rdn
        .split('+')
        .map((ava) => {
          const eq = ava.indexOf('=');
          if (eq < 0) return ava.trim().toLowerCase();
          return `${ava.slice(0, eq).trim().toLowerCase()}=${ava
            .slice(eq + 1)
            .trim()
            .toLowerCase()}`;
        })
        .join('+'),
    )
    .join(',');
}

/** A user name a directory lookup may be made for: 1..256 characters, no control characters. */
export function isPlausibleUsername(username: string): boolean {
  return username.length > 0 && username.length <= 256 && !/[\u0000-\u001f\u007f]/.test(username);
}
