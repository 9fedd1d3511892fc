import path from 'node:path';
import { listOperations } from '../../openapi/gpt-actions-rules.js';
import { defineCheck, fail, pass, warn, type CheckResult } from '../define-check.js';
import { readDocument } from './document.js';
import { cachedResult, storeResult } from './result-cache.js';

export default defineCheck({
  id: 'openapi.valid',
  title: 'OpenAPI schema valid, Spectral (oas + OWASP) clean',
  needs: ['openapi-file'],
  stages: ['pre'],
  async run({ openapiFile }) {
    const file = openapiFile!;
    const read = await readDocument(file);
    const hint = `Fix ${path.basename(file)} (\`routergpt openapi validate ${path.basename(file)}\` lists every problem), or paste it into https://editor.swagger.io/.`;
    if (typeof read === 'string') return fail(read, { hint });
    // The same document, code and dependencies give the same answer (result-cache.ts).
    const { key, result } = cachedResult(file, read.text);
    if (result) return result;
    const answer = await validate(file, read, hint);
    if (key) storeResult(key, answer);
    return answer;
  },
});

async function validate(file: string, read: { doc: Record<string, unknown>; text: string }, hint: string): Promise<CheckResult> {
  try {
    // A clone: swagger-parser dereferences in place.
    // Loaded here, not at import: the registry is imported by every verify/deploy run.
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    await SwaggerParser.validate(structuredClone(read.doc) as never);
  } catch (error) {
    const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim()).filter(Boolean);
    return fail(`${path.basename(file)} is not a valid OpenAPI document: ${lines[0]}`, { details: lines, hint });
  }
  const info = (read.doc.info ?? {}) as { title?: string; version?: string };
  const ops = listOperations(read.doc);
  // Spectral with the oas and OWASP API Security rulesets, offline (src/openapi/spectral.ts): errors fail, warnings warn.
  const { lintOpenapi, formatFinding, summarizeCounts } = await import('../../openapi/spectral.js');
  const report = await lintOpenapi(read.text, path.resolve(file));
  const details = report.findings.filter((f) => f.severity === 'error' || f.severity === 'warn').map(formatFinding);
  const data = { file, operations: ops.map((o) => o.label), spectral: report.counts };
  if (report.errors > 0) {
    return fail(`${path.basename(file)}: Spectral finds ${report.errors} error(s) (${summarizeCounts(report)})`, { details, data, hint: `Fix each finding in ${path.basename(file)}: the rule is named first (\`routergpt openapi validate ${path.basename(file)}\` lists them too).` });
  }
  const summary = `${path.basename(file)}: OpenAPI ${String(read.doc.openapi)}, "${info.title}" ${info.version}, ${ops.length} operations, $refs resolve; Spectral ${summarizeCounts(report)}`;
  if (report.warnings > 0) return warn(summary, { details, data, hint: `Spectral's warnings are advice: fix them in ${path.basename(file)}, or see src/openapi/spectral-ruleset.ts for the rules this project changes and why.` });
  return pass(summary, { data });
}
