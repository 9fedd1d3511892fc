import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import YAML from 'yaml';
import { UsageError } from '../../errors.js';
import { checkGptActionsRules, type RuleOutcome } from '../../openapi/gpt-actions-rules.js';
import { formatFinding, lintOpenapi, summarizeCounts, type SpectralReport } from '../../openapi/spectral.js';

export interface OpenapiValidateOptions {
  file: string;
}

export interface OpenapiValidateResult {
  file: string;
  status: 'pass' | 'fail';
  /** `openapi-schema` (swagger-parser: structure, $refs, JSON Schema) first, then the GPT Actions rules, then `spectral`. */
  rules: RuleOutcome[];
  /** Spectral's findings (oas and OWASP API Security rulesets); absent when the file is not YAML. */
  spectral?: SpectralReport;
}

/** Spectral as one rule: its errors fail it, its warnings are listed as warnings. */
export function spectralRule(report: SpectralReport): RuleOutcome {
  return {
    id: 'spectral',
    title: `Spectral oas + OWASP API Security rulesets (${summarizeCounts(report)})`,
    status: report.errors === 0 ? 'pass' : 'fail',
    problems: report.findings.filter((f) => f.severity === 'error').map(formatFinding),
    warnings: report.findings.filter((f) => f.severity === 'warn').map(formatFinding),
  };
}

/** Validate an OpenAPI file with swagger-parser, the GPT Actions rules and Spectral (offline); never prints. */
export async function runOpenapiValidate(options: OpenapiValidateOptions): Promise<OpenapiValidateResult> {
  const { file } = options;
  if (!existsSync(file)) throw new UsageError(`No such file: ${file}`, 'Pass the OpenAPI file to check, e.g. `routergpt openapi validate openapi_chatgpt_prod.yaml` (made by `routergpt openapi build --env prod`).');
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { file, status: 'fail', rules: [{ id: 'openapi-schema', title: 'valid YAML and OpenAPI (swagger-parser)', status: 'fail', problems: [`not valid YAML: ${reason}`] }] };
  }

  let schemaProblems: string[] = [];
  try {
    // A structured clone: swagger-parser dereferences in place, and the rules want the $refs intact.
    await SwaggerParser.validate(structuredClone(parsed) as never);
  } catch (error) {
    schemaProblems = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim()).filter(Boolean);
  }
  const rules: RuleOutcome[] = [
    { id: 'openapi-schema', title: 'valid OpenAPI: structure, $refs and schemas (swagger-parser)', status: schemaProblems.length === 0 ? 'pass' : 'fail', problems: schemaProblems },
    ...checkGptActionsRules(parsed),
  ];
  const spectral = await lintOpenapi(text, path.resolve(file));
  rules.push(spectralRule(spectral));
  return { file, status: rules.every((r) => r.status === 'pass') ? 'pass' : 'fail', rules, spectral };
}
