import { configProblems } from '../../config/resolve.js';
import { maskSecret, maskUrl } from '../../config/mask.js';
import type { EnvironmentConfig, Sourced } from '../../config/types.js';
import type { ConfigError } from '../../errors.js';
import { METRIC_CATALOGUE, METRIC_IDS, type MetricId } from '../../db/analytics/metric-catalogue.js';

export interface ConfigShowRow {
  key: string;
  value: string;
  source: Sourced<unknown>['source'];
  origin: string;
  /** Set when the environment requires this value and nobody set it: the fix. */
  missing?: string;
}

export interface ConfigShowResult {
  env: string;
  configFile: string | null;
  environments: string[];
  values: ConfigShowRow[];
  /** Invalid values (file or environment), each naming its fix; empty when the configuration is usable. */
  problems: string[];
  /** Required values nobody set, each with its fix. */
  missing: Array<{ key: string; fix: string }>;
}

/** Every resolved value with its source; secrets masked (a password or key never leaves here). */
export function runConfigShow(config: EnvironmentConfig, environments: string[], missing: Array<{ key: string; fix: string }> = [], problems: string[] = []): ConfigShowResult {
  const row = (key: string, s: Pick<Sourced<unknown>, 'source' | 'origin'>, value: string): ConfigShowRow => ({ key, value, source: s.source, origin: s.origin });
  const db = config.database.value;
  const dbMissing = db.kind === 'url' ? missing.find((m) => m.key === db.variable) : undefined;
  const dbRow = row('database', config.database, db.kind === 'embedded' ? `embedded (${db.dataDir})` : db.url ? maskUrl(db.url) : dbMissing ? `${db.variable}  (not set — required for ${config.name}: set it in the environment or .env)` : '(not set)');
  if (dbMissing) dbRow.missing = dbMissing.fix;
  const rl = config.rateLimits.parts;
  const server = config.server.parts;
  const values: ConfigShowRow[] = [
    dbRow,
    row('protected', config.protected, String(config.protected.value)),
    row('public_api_base', config.publicApiBase, config.publicApiBase.value ?? '(not set)'),
    row('allowed_origins', config.allowedOrigins, config.allowedOrigins.value.join(', ')),
    row('rate_limits.search_per_minute', rl.searchPerMinute, String(rl.searchPerMinute.value)),
    row('rate_limits.delegate_per_minute', rl.delegatePerMinute, String(rl.delegatePerMinute.value)),
    row('redis_url', config.redisUrl, config.redisUrl.value ? maskUrl(config.redisUrl.value) : '(not set: in-memory rate limits)'),
    row('openai_api_key', config.openaiApiKey, maskSecret(config.openaiApiKey.value)),
    row('api_key', config.apiKey, maskSecret(config.apiKey.value)),
    row('trusted_proxies', config.trustedProxies, config.trustedProxies.value.join(', ') || '(none)'),
    row('enable_router_gpt', config.enableRouterGpt, String(config.enableRouterGpt.value)),
    row('lock_timeout', config.lockTimeoutMs, `${config.lockTimeoutMs.value}ms`),
    row('migrations_dir', config.migrationsDir, config.migrationsDir.value),
    row('server.host', server.host, server.host.value),
    row('server.port', server.port, String(server.port.value)),
    row('deploy', config.deploy, describeDeploy(config.deploy.value)),
    row('privacy_policy_url', config.privacyPolicyUrl, config.privacyPolicyUrl.value ?? '(not set)'),
    row('log_file', config.logFile, config.logFile.value ?? '(not set)'),
    row('allow_test_bookings', config.allowTestBookings, String(config.allowTestBookings.value)),
    row('booking_horizon_days', config.bookingHorizonDays, String(config.bookingHorizonDays.value)),
    row('backup_dir', config.backupDir, config.backupDir.value),
    row('backup_retention', config.backupRetention, String(config.backupRetention.value)),
    row('approvals', config.approvals, `${config.approvals.value.required} required${config.approvals.value.required ? `, ${config.approvals.value.allowSelfApproval ? 'the deployer may approve' : 'not by the deployer'}, wait ${Math.round(config.approvals.value.timeoutMs / 1000)}s` : ''}`),
    row('watch', config.watch, describeWatch(config.watch.value)),
    ...geocodingRows(config),
    ...retentionRows(config),
    ...METRIC_IDS.map((id) => metricRow(config, id)),
  ];
  return { env: config.name, configFile: config.configFile ?? null, environments, values, problems, missing };
}

/** One Success Metric's target (its source) and the sample a verdict needs (said with its own source when the file set it). */
function metricRow(config: EnvironmentConfig, id: MetricId): ConfigShowRow {
  const def = METRIC_CATALOGUE[id];
  const { target, minSample } = config.metrics[id];
  const value = `${def.comparison === 'above' ? '>' : '<'} ${target.value}${def.unit === 'ms' ? ' ms' : def.unit === '%' ? ' %' : '/5'}, a verdict from ${minSample.value} ${def.sampleOf}${minSample.source === 'file' ? ` (${minSample.origin})` : ''}`;
  return { key: `metrics.${def.configKey}`, value, source: target.source, origin: target.origin };
}

/** geocoding: each value with its own source; the key masked, the URLs as they are (they hold no secret). */
function geocodingRows(config: EnvironmentConfig): ConfigShowRow[] {
  const g = config.geocoding;
  const row = (key: string, s: Pick<Sourced<unknown>, 'source' | 'origin'>, value: string): ConfigShowRow => ({ key, value, source: s.source, origin: s.origin });
  return [
    row('geocoding.provider', g.providers, g.providers.value.join(', ')),
    row('geocoding.accuracy_min', g.accuracyMin, g.accuracyMin.value),
    row('geocoding.moved_warn_m', g.movedWarnM, `${g.movedWarnM.value} m`),
    row('geocoding.google.cache_days', g.google.cacheDays, String(g.google.cacheDays.value)),
    row('geocoding.google.qps', g.google.qps, String(g.google.qps.value)),
    row('google_maps_api_key', g.google.apiKey, maskSecret(g.google.apiKey.value)),
    row('google_geocoding_url', g.google.url, g.google.url.value),
    row('geocoding.nominatim.email', g.nominatim.email, g.nominatim.email.value ?? '(not set)'),
    row('nominatim_url', g.nominatim.url, g.nominatim.url.value),
  ];
}

function describeWatch(w: EnvironmentConfig['watch']['value']): string {
  const p95 = Object.entries(w.limits.p95_ms).map(([route, ms]) => `${route} ${ms}ms`).join(', ');
  return `for ${w.forMs / 1000}s every ${w.intervalMs / 1000}s, min_requests ${w.minRequests}; p95 ${p95}; error rate ${w.limits.error_rate * 100}%, 429 rate ${w.limits.rate_429 * 100}%`;
}

/**
 * `config show` exits 0 when it could show the configuration, even with a required value unset
 * (marked in the table): it is for looking. Invalid values are exit 2, listed after the table;
 * with --check an unset required value is exit 2 as well.
 */
export function configShowVerdict(result: ConfigShowResult, check: boolean): ConfigError | undefined {
  const problems = [...result.problems, ...(check ? result.missing.map((m) => `${m.key} is not set (required for ${result.env}): ${m.fix}.`) : [])];
  if (problems.length === 0) return undefined;
  return configProblems(problems, result.env, { hint: `Fix the values above, then run \`routergpt config show --env ${result.env}${check ? ' --check' : ''}\` again.` });
}

/** retention: each age with its own source; unset says it is kept forever. */
function retentionRows(config: EnvironmentConfig): ConfigShowRow[] {
  const r = config.retention;
  const row = (key: string, s: Pick<Sourced<unknown>, 'source' | 'origin'>, value: string): ConfigShowRow => ({ key, value, source: s.source, origin: s.origin });
  const days = (v: number | undefined) => (v === undefined ? '(not set: kept forever)' : `${v} days`);
  return [
    row('retention.analytics_archive_days', r.analyticsArchiveDays, days(r.analyticsArchiveDays.value)),
    row('retention.analytics_delete_days', r.analyticsDeleteDays, days(r.analyticsDeleteDays.value)),
    row('retention.chat_anonymise_days', r.chatAnonymiseDays, days(r.chatAnonymiseDays.value)),
  ];
}

/**
 * The deploy row: the commands as configured (under the releases layout, the ones that fill
 * releases/<release>/, not the generated ones around them), the hosts, the layout, the strategy.
 */
function describeDeploy(deploy: EnvironmentConfig['deploy']['value']): string {
  const { releases } = deploy;
  const count = releases ? releases.commands.length : deploy.commands.length;
  const layout = releases ? `; releases layout in ${releases.path} (keep ${releases.keep}, code rollback = switch current back + restart)` : '';
  return `${count} command(s) on ${deploy.hosts.map((h) => h.name).join(', ') || 'this machine'}${layout}${describeStrategy(deploy.strategy)}`;
}

/** `deploy.strategy` in one phrase for `config show`: `; rolling, batch 1, max_fail 0, canary`. */
function describeStrategy(strategy: EnvironmentConfig['deploy']['value']['strategy']): string {
  if (!strategy) return '';
  const batch = 'count' in strategy.batch ? `batch ${strategy.batch.count}` : `batch ${strategy.batch.percent}%`;
  return `; rolling, ${batch}, max_fail ${strategy.maxFail}${strategy.pauseMs ? `, pause ${strategy.pauseMs / 1000} s` : ''}${strategy.canary ? `, canary first${strategy.canaryBakeMs ? ` (bakes ${strategy.canaryBakeMs % 60_000 === 0 ? `${strategy.canaryBakeMs / 60_000} min` : `${strategy.canaryBakeMs / 1000} s`})` : ' (no bake)'}` : ''}, gate ${strategy.gateTimeoutMs / 1000} s`;
}
