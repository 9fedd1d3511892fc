import { maskSecret, maskUrl } from '../../config/mask.js';
import type { EnvironmentConfig, Sourced } from '../../config/types.js';

export interface ConfigShowRow {
  key: string;
  value: string;
  source: Sourced<unknown>['source'];
  origin: string;
}

export interface ConfigShowResult {
  env: string;
  configFile: string | null;
  environments: string[];
  values: ConfigShowRow[];
}

/** Every resolved value with its source; secrets masked (a password or key never leaves here). */
export function runConfigShow(config: EnvironmentConfig, environments: string[]): ConfigShowResult {
  const row = (key: string, s: Sourced<unknown>, value: string): ConfigShowRow => ({ key, value, source: s.source, origin: s.origin });
  const db = config.database.value;
  const values: ConfigShowRow[] = [
    row('database', config.database, db.kind === 'embedded' ? `embedded (${db.dataDir})` : db.url ? maskUrl(db.url) : '(not set)'),
    row('protected', config.protected, String(config.protected.value)),
    row('public_api_base', config.publicApiBase, config.publicApiBase.value ?? '(not set)'),
    row('allowed_origins', config.allowedOrigins, config.allowedOrigins.value.join(', ')),
    row('rate_limits', config.rateLimits, `search ${config.rateLimits.value.searchPerMinute}/min, delegate ${config.rateLimits.value.delegatePerMinute}/min`),
    row('redis_url', config.redisUrl, config.redisUrl.value ? maskUrl(config.redisUrl.value) : '(not set: in-memory rate limits)'),
    row('openai_api_key', config.openaiApiKey, maskSecret(config.openaiApiKey.value)),
    row('api_key', config.apiKey, maskSecret(config.apiKey.value)),
    row('trusted_proxies', config.trustedProxies, config.trustedProxies.value.join(', ') || '(none)'),
    row('enable_router_gpt', config.enableRouterGpt, String(config.enableRouterGpt.value)),
    row('lock_timeout', config.lockTimeoutMs, `${config.lockTimeoutMs.value}ms`),
    row('migrations_dir', config.migrationsDir, config.migrationsDir.value),
    row('server', config.server, `${config.server.value.host}:${config.server.value.port}`),
    row('deploy', config.deploy, `${config.deploy.value.commands.length} command(s) on ${config.deploy.value.hosts.map((h) => h.name).join(', ') || 'this machine'}`),
    row('privacy_policy_url', config.privacyPolicyUrl, config.privacyPolicyUrl.value ?? '(not set)'),
    row('log_file', config.logFile, config.logFile.value ?? '(not set)'),
    row('allow_test_bookings', config.allowTestBookings, String(config.allowTestBookings.value)),
    row('backup_dir', config.backupDir, config.backupDir.value),
    row('backup_retention', config.backupRetention, String(config.backupRetention.value)),
    row('approvals', config.approvals, `${config.approvals.value.required} required${config.approvals.value.required ? `, ${config.approvals.value.allowSelfApproval ? 'the deployer may approve' : 'not by the deployer'}, wait ${Math.round(config.approvals.value.timeoutMs / 1000)}s` : ''}`),
  ];
  return { env: config.name, configFile: config.configFile ?? null, environments, values };
}
