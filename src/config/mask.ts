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

/**
 * Does a parsed document hold anything that could be a credential: a URL with a password (or a
 * secret-looking query parameter), a libpq `password=` string, or a key named like one. Used to
 * keep such documents out of caches on disk.
 */
export function holdsCredential(value: unknown): boolean {
  if (typeof value === 'string') return urlPassword(value) !== undefined || /(^|\s)password\s*=/i.test(value) || /[?&][^=&]*(pass|secret|token|key)[^=&]*=/i.test(value);
  if (Array.isArray(value)) return value.some(holdsCredential);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => /pass|secret|token|api_?key|credential/i.test(k) || holdsCredential(v));
  return false;
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
