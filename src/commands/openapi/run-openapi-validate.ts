import { existsSync, readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import YAML from 'yaml';
import { UsageError } from '../../errors.js';
import { checkGptActionsRules, type RuleOutcome } from '../../openapi/gpt-actions-rules.js';

export interface OpenapiValidateOptions {
  file: string;
}

export interface OpenapiValidateResult {
  file: string;
  status: 'pass' | 'fail';
  /** `openapi-schema` (swagger-parser: structure, $refs, JSON Schema) first, then the GPT Actions rules. */
  rules: RuleOutcome[];
}

/** Validate an OpenAPI file with swagger-parser and the GPT Actions rules; never prints. */
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
  return { file, status: rules.every((r) => r.status === 'pass') ? 'pass' : 'fail', rules };
}
