/** Secrets never reach output: URLs lose their password, keys all but a short prefix. */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '*****';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, '*****');
    }
    return url.toString();
  } catch {
    // Not a URL we can parse: hide anything between ':' and '@' to be safe.
    return raw.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:*****@');
  }
}

export function maskSecret(value: string | undefined): string {
  if (value === undefined || value === '') return '(not set)';
  return `***** (${value.length} characters)`;
}

/**
 * Secret values this process knows (API keys, the database password — as written and
 * percent-decoded). loadConfig registers them; every redaction uses them, so a message built
 * anywhere (an error, a journal line, a child's output) cannot carry one out.
 */
const KNOWN_SECRETS = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return;
  KNOWN_SECRETS.add(value);
  try {
    KNOWN_SECRETS.add(decodeURIComponent(value));
  } catch {
    /* not percent-encoded */
  }
  KNOWN_SECRETS.add(encodeURIComponent(value));
}

/** The password inside a connection URL, if any. */
export function urlPassword(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    return new URL(raw.replace(/^postgres(ql)?\+\w+:/, 'postgresql:')).password || undefined;
  } catch {
    return /:\/\/[^:/@\s]+:(\S*)@/.exec(raw)?.[1] || undefined;
  }
}

/** Key names that name a secret (a key ending in `_env` names the variable that holds it: fine). */
const SECRET_KEY = /pass|secret|token|api_?key|credential|auth/i;
/** A word that could carry a secret inside a string: `PGPASSWORD=…`, `sslpassword=`, `Bearer …`. */
const SECRET_WORD = /pass|secret|token|bearer|authorization|api_?key|credential/i;

/** A string that plainly carries no credential: one token, no secret-looking word, and any URL in it without user info or query. */
function plainString(raw: string): boolean {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    return false;
  }
  if (/\s/.test(text) || SECRET_WORD.test(text)) return false; // a shell command, a header, a libpq string
  if (!text.includes('://')) return !/^[^@/]+:[^@/]*@/.test(text); // user:secret@host without a scheme
  if ((text.match(/:\/\//g) ?? []).length > 1) return false;
  try {
    const url = new URL(raw);
    // No '@' anywhere after the scheme: a password of digits and a slash parses as a port and a path.
    return url.username === '' && url.password === '' && url.search === '' && !text.slice(text.indexOf('://') + 3).includes('@');
  } catch {
    return false;
  }
}

/**
 * Could a parsed document hold a credential? Conservative: true unless every string in it plainly
 * carries none (see plainString: commands, URLs with user info or a query, secret-looking words
 * and percent-encodings of them all count) and no key is named like a secret. Used to keep such
 * documents out of caches on disk; a cyclic document (YAML aliases) counts as holding one.
 */
export function holdsCredential(value: unknown, seen: WeakSet<object> = new WeakSet()): boolean {
  if (typeof value === 'string') return !plainString(value);
  if (value === null || typeof value !== 'object') return false;
  if (seen.has(value)) return true;
  seen.add(value);
  if (Array.isArray(value)) return value.some((v) => holdsCredential(v, seen));
  return Object.entries(value).some(([k, v]) => (SECRET_KEY.test(k) && !k.endsWith('_env')) || holdsCredential(v, seen));
}

/** Remove every known secret value from a text before it is printed or stored. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  // Longest first, so a secret containing another is removed whole.
  const all = [...new Set([...KNOWN_SECRETS, ...secrets.filter((s): s is string => Boolean(s && s.length >= 4))])].sort((a, b) => b.length - a.length);
  for (const secret of all) out = out.split(secret).join('*****');
  // Any URL credentials left (greedy up to the last '@' of the token: passwords may contain '@').
  return out.replace(/(postgres(?:ql)?(?:\+\w+)?:\/\/[^:/@\s]+):\S*@/g, '$1:*****@');
}
