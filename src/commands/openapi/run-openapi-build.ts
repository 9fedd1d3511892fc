import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../../errors.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { readOpenapiTemplate, renderOpenapi } from '../../openapi/document.js';
import { checkGptActionsRules, isAcceptableServerUrl, type RuleOutcome } from '../../openapi/gpt-actions-rules.js';

export interface OpenapiBuildOptions {
  config: EnvironmentConfig;
  /** Where relative paths and the default output resolve. */
  cwd: string;
  /** Default `openapi_chatgpt_<env>.yaml` in cwd. */
  output?: string;
  /** Template path (default: the packaged openapi/openapi_chatgpt.yaml). */
  template?: string;
}

export interface OpenapiBuildResult {
  env: string;
  file: string;
  serverUrl: string;
  /** From where the server URL came ("PUBLIC_API_BASE (from the environment)"). */
  serverOrigin: string;
  requireAuth: boolean;
  status: 'pass' | 'fail';
  rules: RuleOutcome[];
  /** False when a rule failed: nothing is written then. */
  written: boolean;
}

/** Render the GPT-facing document for one environment and write it; never prints. */
export async function runOpenapiBuild(options: OpenapiBuildOptions): Promise<OpenapiBuildResult> {
  const { config } = options;
  const base = config.publicApiBase;
  const hint = `Set PUBLIC_API_BASE=https://api.example.com (in the environment or .env), or public_api_base under environments.${config.name} in routergpt.config.yaml.`;
  if (!base.value) throw new ConfigError(`PUBLIC_API_BASE is not set for environment "${config.name}": the document needs the URL GPT Actions will call.`, hint);
  if (config.name !== 'local' && !base.value.startsWith('https://')) {
    throw new ConfigError(`${base.origin} is ${base.value}; GPT Actions only call https servers (TLS on port 443).`, hint);
  }
  if (!isAcceptableServerUrl(base.value) && config.name === 'local') {
    throw new ConfigError(`${base.origin} is ${base.value}; use https, or http only on a loopback address for local.`, hint);
  }

  const requireAuth = Boolean(config.apiKey.value);
  const text = renderOpenapi({
    serverUrl: base.value,
    serverDescription: `${config.name} (from ${base.origin})`,
    requireAuth,
    template: options.template ? readOpenapiTemplate(path.resolve(options.cwd, options.template)) : undefined,
  });
  const rules = checkGptActionsRules(YAML.parse(text));
  const status = rules.every((r) => r.status === 'pass') ? 'pass' : 'fail';
  const file = path.resolve(options.cwd, options.output ?? `openapi_chatgpt_${config.name}.yaml`);
  if (status === 'pass') {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return { env: config.name, file, serverUrl: base.value.replace(/\/+$/, ''), serverOrigin: base.origin, requireAuth, status, rules, written: status === 'pass' };
}
