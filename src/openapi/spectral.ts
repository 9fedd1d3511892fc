/**
 * Lint an OpenAPI document with Spectral: the `oas` ruleset and the OWASP API Security ruleset
 * (src/openapi/spectral-ruleset.ts), offline. The rulesets come from node_modules and the $ref
 * resolver has no http or file reader, so nothing is fetched and nothing outside the document is
 * read: a $ref to another file or URL is reported, not followed.
 *
 * Spectral is loaded on the first call (`await import()`), not when this module is imported.
 */

export type SpectralSeverity = 'error' | 'warn' | 'info' | 'hint';
/** Which ruleset a rule comes from: Spectral's `oas`, OWASP's, or the replacements in spectral-ruleset.ts. */
export type SpectralRulesetName = 'oas' | 'owasp' | 'routergpt';

export interface SpectralFinding {
  ruleset: SpectralRulesetName;
  /** The rule, e.g. `owasp:api4:2023-string-limit`. */
  code: string;
  severity: SpectralSeverity;
  /** JSON path in the document, e.g. `components.schemas.ChatRequest.properties.message`. */
  path: string;
  /** 1-based line in the file. */
  line: number;
  message: string;
}

export interface SpectralReport {
  findings: SpectralFinding[];
  /** Errors and warnings per ruleset. */
  counts: Record<SpectralRulesetName, { errors: number; warnings: number }>;
  errors: number;
  warnings: number;
}

const SEVERITIES: readonly SpectralSeverity[] = ['error', 'warn', 'info', 'hint'];

export function rulesetOf(code: string): SpectralRulesetName {
  if (code.startsWith('owasp:')) return 'owasp';
  if (code.startsWith('routergpt:')) return 'routergpt';
  return 'oas';
}

/** Lint `text` (YAML or JSON) as the document at `source` (an absolute path: it names findings and matches the ruleset's overrides). */
export async function lintOpenapi(text: string, source: string): Promise<SpectralReport> {
  const [{ Spectral, Document, Ruleset }, { default: Parsers }, { Resolver }, { routergptRuleset }] = await Promise.all([
    import('@stoplight/spectral-core'),
    import('@stoplight/spectral-parsers'),
    import('@stoplight/spectral-ref-resolver'),
    import('./spectral-ruleset.js'),
  ]);
  // No readers: only $refs inside the document resolve (offline, and no file outside it is read).
  const spectral = new Spectral({ resolver: new Resolver({ resolvers: {} }) });
  // A ruleset needs a source: its overrides' `files` globs are matched against the document's
  // path relative to it. Placed beside the document, so `**#/paths/~1health` matches any file.
  spectral.setRuleset(new Ruleset(routergptRuleset, { source: `${source}.spectral.js` }));
  const results = await spectral.run(new Document(text, Parsers.Yaml, source));
  const findings: SpectralFinding[] = results
    .map((r) => ({
      ruleset: rulesetOf(String(r.code)),
      code: String(r.code),
      severity: SEVERITIES[r.severity] ?? 'error',
      path: r.path.map(String).join('.'),
      line: r.range.start.line + 1,
      message: r.message,
    }))
    .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.line - b.line || a.code.localeCompare(b.code));
  const counts = { oas: { errors: 0, warnings: 0 }, owasp: { errors: 0, warnings: 0 }, routergpt: { errors: 0, warnings: 0 } };
  for (const f of findings) {
    if (f.severity === 'error') counts[f.ruleset].errors++;
    else if (f.severity === 'warn') counts[f.ruleset].warnings++;
  }
  return { findings, counts, errors: findings.filter((f) => f.severity === 'error').length, warnings: findings.filter((f) => f.severity === 'warn').length };
}

/** One line per finding: `error owasp:api4:2023-string-limit components.schemas.X.properties.y (line 12): …`. */
export function formatFinding(f: SpectralFinding): string {
  return `${f.severity} ${f.code} ${f.path || '(document)'} (line ${f.line}): ${f.message}`;
}

/** "oas 0 errors, 1 warning; owasp 0 errors, 0 warnings" (the routergpt replacements count with owasp's). */
export function summarizeCounts(report: SpectralReport): string {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  const owasp = { errors: report.counts.owasp.errors + report.counts.routergpt.errors, warnings: report.counts.owasp.warnings + report.counts.routergpt.warnings };
  return `oas ${n(report.counts.oas.errors, 'error')}, ${n(report.counts.oas.warnings, 'warning')}; owasp ${n(owasp.errors, 'error')}, ${n(owasp.warnings, 'warning')}`;
}
