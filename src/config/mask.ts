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

/** Remove every known secret value from a text before it is printed or stored. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('*****');
  }
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+):[^@\s]*@/g, '$1:*****@');
}
