import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { ConfigError, UsageError } from '../errors.js';
import { parseDurationOrMs } from './duration.js';
import { mergeEnv, readDotEnv } from './dotenv.js';
import { registerSecret, urlPassword } from './mask.js';
import { configFileSchema, DURATION_KEYS, type RawConfigFile, type RawEnvironment } from './file-schema.js';
import type { ConfigFlags, DatabaseTarget, EnvironmentConfig, Source, Sourced } from './types.js';

export const CONFIG_FILE_NAME = 'routergpt.config.yaml';
export const BUILTIN_ENVIRONMENTS = ['local', 'staging', 'prod'] as const;
export const DEFAULT_ALLOWED_ORIGINS = ['https://chat.openai.com', 'https://chatgpt.com'];

export interface LoadConfigOptions {
  flags: ConfigFlags;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** False for commands that never touch the database (smoke --base-url): a missing DATABASE_URL is then not an error. */
  requireDatabase?: boolean;
}

export interface LoadedConfig {
  config: EnvironmentConfig;
  environments: string[];
  /** The process environment merged with `.env` (real variables win). */
  env: NodeJS.ProcessEnv;
}

type Candidate<T> = [Source, string, T | undefined];

/** The first candidate with a value, in the order given: flag > env > file > default. */
function pick<T>(...candidates: Candidate<T>[]): Sourced<T> {
  for (const [source, origin, value] of candidates) {
    if (value !== undefined) return { value, source, origin };
  }
  // Nothing set anywhere: the last candidate describes the (undefined) default.
  const [source, origin] = candidates[candidates.length - 1]!;
  return { value: undefined as T, source, origin };
}

function readConfigFile(file: string): RawConfigFile {
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(file, 'utf8'), { prettyErrors: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`${path.basename(file)} is not valid YAML: ${reason}`, `Fix the YAML syntax in ${file}.`);
  }
  if (parsed === null || parsed === undefined) return {};
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(configFileSchema);
  const schemaProblems = validate(parsed)
    ? []
    : (validate.errors ?? []).map((e) => {
        const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
        const extra = e.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : '';
        return `${where}: ${e.message ?? 'invalid'}${extra}`;
      });
  const problems = [...new Set(schemaProblems), ...durationProblems(parsed)];
  if (problems.length > 0) {
    throw new ConfigError(
      `${path.basename(file)} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      `Fix ${file} (see docs/configuration.md), then run \`routergpt config show\`.`,
      { problems },
    );
  }
  return parsed as RawConfigFile;
}

/** Every duration key of every environment, not only the one in use: a typo in prod shows up on local. */
function durationProblems(parsed: unknown): string[] {
  const environments = (parsed as RawConfigFile | undefined)?.environments;
  if (typeof environments !== 'object' || environments === null) return [];
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(environments)) {
    for (const keyPath of DURATION_KEYS) {
      let value: unknown = raw;
      for (const key of keyPath) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      // Other types (and negative numbers) are the schema's to report.
      if (typeof value !== 'string' && !(Number.isInteger(value) && (value as number) >= 0)) continue;
      durationOrProblem(value as string | number, `environments.${name}.${keyPath.join('.')}`, problems);
    }
  }
  return problems;
}

/** A duration from the environment or the file, or undefined with the problem recorded. */
function durationOrProblem(value: string | number | undefined, where: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDurationOrMs(value, where);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.push(error.message);
    return undefined;
  }
}

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return !/^(false|0|no|off)$/i.test(value.trim());
}

function parseIntOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : Number.NaN;
}

export function loadConfig({ flags, cwd, env: processEnv, requireDatabase = true }: LoadConfigOptions): LoadedConfig {
  const explicit = flags.config ?? processEnv.ROUTERGPT_CONFIG;
  const configFile = explicit ? path.resolve(cwd, explicit) : path.join(cwd, CONFIG_FILE_NAME);
  if (explicit && !existsSync(configFile)) {
    throw new ConfigError(`Config file not found: ${configFile}`, 'Check the --config path, or run `routergpt init` to create one.');
  }
  const file = existsSync(configFile) ? readConfigFile(configFile) : undefined;
  const baseDir = file ? path.dirname(configFile) : cwd;
  const env = mergeEnv(processEnv, readDotEnv(path.join(baseDir, '.env')));

  const fileEnvs = Object.keys(file?.environments ?? {});
  const environments = [...new Set([...BUILTIN_ENVIRONMENTS, ...fileEnvs])];
  const name = flags.env ?? env.ROUTERGPT_ENV ?? file?.default_env ?? 'local';
  if (!environments.includes(name)) {
    throw new ConfigError(
      `Unknown environment "${name}". Known environments: ${environments.join(', ')}.`,
      `Use --env ${environments.join('|')}, or add "${name}" under environments: in ${CONFIG_FILE_NAME}.`,
    );
  }
  const raw: RawEnvironment = file?.environments?.[name] ?? {};
  const fileLabel = (key: string) => `${path.basename(configFile)}: environments.${name}.${key}`;
  const envLabel = (variable: string) => `${variable} (from the environment)`;
  const problems: string[] = [];
  const isLocal = name === 'local';

  // --- database ---------------------------------------------------------------------------
  const defaultDb: RawEnvironment['database'] = isLocal ? 'embedded' : { url_env: 'DATABASE_URL' };
  const rawDb = raw.database ?? defaultDb;
  const dbSource: Source = raw.database !== undefined ? 'file' : 'default';
  let database: Sourced<DatabaseTarget>;
  if (rawDb === 'embedded' || (typeof rawDb === 'object' && rawDb.data_dir && !rawDb.url && !rawDb.url_env)) {
    const dataDir = path.resolve(baseDir, typeof rawDb === 'object' && rawDb.data_dir ? rawDb.data_dir : path.join('.routergpt', name));
    database = { value: { kind: 'embedded', dataDir }, source: dbSource, origin: dbSource === 'file' ? fileLabel('database') : 'built-in default (embedded)' };
  } else {
    const variable = rawDb.url_env ?? 'DATABASE_URL';
    const fromEnv = env[variable];
    if (fromEnv) {
      database = { value: { kind: 'url', url: fromEnv, variable }, source: 'env', origin: envLabel(variable) };
    } else if (rawDb.url) {
      database = { value: { kind: 'url', url: rawDb.url, variable }, source: 'file', origin: fileLabel('database.url') };
    } else {
      database = { value: { kind: 'url', url: '', variable }, source: 'default', origin: `${variable} (not set)` };
      if (requireDatabase) problems.push(`${variable} is not set: environment "${name}" takes its database URL from it. Set ${variable} (in the environment or .env), or use --env local for the embedded database.`);
    }
    const url = database.value.kind === 'url' ? database.value.url : '';
    if (url) {
      let parsedUrl: URL | undefined;
      try {
        parsedUrl = new URL(url);
      } catch {
        problems.push(`${database.origin} is not a valid URL. Use postgres://user:password@host:5432/dbname.`);
      }
      if (parsedUrl && !/^postgres(ql)?(\+\w+)?:$/.test(parsedUrl.protocol)) {
        problems.push(`${database.origin} has scheme "${parsedUrl.protocol}"; expected postgres:// or postgresql://.`);
      }
    }
  }

  // --- the rest, flag > env > file > default ----------------------------------------------
  const publicApiBase = pick<string | undefined>(
    ['env', envLabel('PUBLIC_API_BASE'), env.PUBLIC_API_BASE || undefined],
    ['file', fileLabel('public_api_base'), raw.public_api_base],
    ['default', isLocal ? 'built-in default' : 'not set', isLocal ? 'http://127.0.0.1:8787' : undefined],
  );
  if (publicApiBase.value) {
    try {
      new URL(publicApiBase.value);
    } catch {
      problems.push(`${publicApiBase.origin} is not a valid URL ("https://api.example.com").`);
    }
  }

  const allowedOrigins = pick<string[]>(
    ['env', envLabel('ALLOWED_ORIGINS'), splitList(env.ALLOWED_ORIGINS)],
    ['file', fileLabel('allowed_origins'), raw.allowed_origins],
    ['default', 'built-in default', DEFAULT_ALLOWED_ORIGINS],
  );
  for (const origin of allowedOrigins.value) {
    if (origin === '*') problems.push(`${allowedOrigins.origin} contains "*"; list the allowed origins explicitly.`);
  }

  const searchEnv = parseIntOrUndefined(env.RATE_LIMIT_SEARCH_PER_MIN);
  const delegateEnv = parseIntOrUndefined(env.RATE_LIMIT_DELEGATE_PER_MIN);
  const rlSource: Source = searchEnv !== undefined || delegateEnv !== undefined ? 'env' : raw.rate_limits ? 'file' : 'default';
  const rateLimits: Sourced<{ searchPerMinute: number; delegatePerMinute: number }> = {
    value: {
      searchPerMinute: searchEnv ?? raw.rate_limits?.search_per_minute ?? 20,
      delegatePerMinute: delegateEnv ?? raw.rate_limits?.delegate_per_minute ?? 10,
    },
    source: rlSource,
    origin: rlSource === 'env' ? envLabel('RATE_LIMIT_*_PER_MIN') : rlSource === 'file' ? fileLabel('rate_limits') : 'built-in default',
  };
  for (const [key, v] of Object.entries(rateLimits.value)) {
    if (!Number.isInteger(v) || v < 1) problems.push(`rate limit ${key} must be a whole number ≥ 1 (got ${String(v)} from ${rateLimits.origin}).`);
  }

  const redisVar = raw.redis_url_env ?? 'REDIS_URL';
  const redisUrl = pick<string | undefined>(['env', envLabel(redisVar), env[redisVar] || undefined], ['default', 'not set (in-memory rate limits)', undefined]);
  const openaiApiKey = pick<string | undefined>(['env', envLabel('OPENAI_API_KEY'), env.OPENAI_API_KEY || undefined], ['default', 'not set (offline assistant)', undefined]);
  const apiKey = pick<string | undefined>(['env', envLabel('ROUTERGPT_API_KEY'), env.ROUTERGPT_API_KEY || undefined], ['default', 'not set (public API)', undefined]);
  const syntheticKey = pick<string | undefined>(['env', envLabel('ROUTERGPT_SYNTHETIC_KEY'), env.ROUTERGPT_SYNTHETIC_KEY?.trim() || undefined], ['default', 'not set (the key in routergpt.synthetic_key)', undefined]);
  if (syntheticKey.value !== undefined && syntheticKey.value.length < 32) problems.push(`ROUTERGPT_SYNTHETIC_KEY must be at least 32 characters (got ${syntheticKey.value.length}); unset it to use the key migration 010 generated.`);
  const trustedProxies = pick<string[]>(
    ['env', envLabel('TRUSTED_PROXIES'), splitList(env.TRUSTED_PROXIES)],
    ['file', fileLabel('trusted_proxies'), raw.trusted_proxies],
    ['default', 'built-in default (none)', []],
  );
  const enableRouterGpt = pick<boolean>(
    ['env', envLabel('ENABLE_ROUTER_GPT'), parseBool(env.ENABLE_ROUTER_GPT)],
    ['file', fileLabel('enable_router_gpt'), raw.enable_router_gpt],
    ['default', 'built-in default', true],
  );
  // A bare number is milliseconds here, as it was before the duration grammar (duration.ts).
  const lockTimeoutMs = pick<number>(
    ['env', envLabel('ROUTERGPT_LOCK_TIMEOUT'), durationOrProblem(env.ROUTERGPT_LOCK_TIMEOUT || undefined, 'ROUTERGPT_LOCK_TIMEOUT', problems)],
    ['file', fileLabel('lock_timeout'), durationOrProblem(raw.lock_timeout, fileLabel('lock_timeout'), problems)],
    ['default', 'built-in default', 5000],
  );
  const migrationsDir = pick<string>(
    ['env', envLabel('ROUTERGPT_MIGRATIONS_DIR'), env.ROUTERGPT_MIGRATIONS_DIR ? path.resolve(cwd, env.ROUTERGPT_MIGRATIONS_DIR) : undefined],
    ['file', fileLabel('migrations_dir'), raw.migrations_dir ? path.resolve(baseDir, raw.migrations_dir) : undefined],
    ['default', 'built-in default', defaultMigrationsDir()],
  );
  const portEnv = parseIntOrUndefined(env.PORT);
  const serverSource: Source = flags.port !== undefined || flags.host !== undefined ? 'flag' : portEnv !== undefined || env.HOST ? 'env' : raw.server ? 'file' : 'default';
  const server = {
    value: {
      host: flags.host ?? env.HOST ?? raw.server?.host ?? '127.0.0.1',
      port: flags.port ?? portEnv ?? raw.server?.port ?? 8787,
    },
    source: serverSource,
    origin: { flag: '--host/--port', env: envLabel('PORT/HOST'), file: fileLabel('server'), default: 'built-in default' }[serverSource],
  } satisfies Sourced<{ host: string; port: number }>;
  if (!Number.isInteger(server.value.port) || server.value.port < 0 || server.value.port > 65535) {
    problems.push(`port must be 0–65535 (got ${String(server.value.port)} from ${server.origin}).`);
  }
  const deployTimeout = durationOrProblem(raw.deploy?.timeout, fileLabel('deploy.timeout'), problems);
  const deploy = pick(
    ['file', fileLabel('deploy'), raw.deploy ? {
      hosts: (raw.deploy.hosts ?? []).map((h) => ({ name: h.name, via: h.via ?? [] })),
      commands: raw.deploy.commands ?? [],
      rollbackCommands: raw.deploy.rollback_commands ?? [],
      timeoutMs: deployTimeout ?? 300_000,
    } : undefined],
    ['default', 'built-in default (no commands)', { hosts: [], commands: [], rollbackCommands: [], timeoutMs: 300_000 }],
  );
  const privacyPolicyUrl = pick<string | undefined>(
    ['env', envLabel('PRIVACY_POLICY_URL'), env.PRIVACY_POLICY_URL || undefined],
    ['file', fileLabel('privacy_policy_url'), raw.privacy_policy_url],
    ['default', 'not set', undefined],
  );
  const logFile = pick<string | undefined>(
    ['env', envLabel('ROUTERGPT_LOG_FILE'), env.ROUTERGPT_LOG_FILE || undefined],
    ['file', fileLabel('log_file'), raw.log_file ? path.resolve(baseDir, raw.log_file) : undefined],
    ['default', 'not set', undefined],
  );
  const isProd = name === 'prod';
  const protectedEnv = pick<boolean>(['file', fileLabel('protected'), raw.protected], ['default', 'built-in default', isProd]);
  const allowTestBookings = pick<boolean>(['file', fileLabel('allow_test_bookings'), raw.allow_test_bookings], ['default', 'built-in default', !isProd]);
  const backupDir = pick<string>(
    ['env', envLabel('ROUTERGPT_BACKUP_DIR'), env.ROUTERGPT_BACKUP_DIR ? path.resolve(cwd, env.ROUTERGPT_BACKUP_DIR) : undefined],
    ['file', fileLabel('backup.dir'), raw.backup?.dir ? path.resolve(baseDir, raw.backup.dir) : undefined],
    ['default', 'built-in default', path.resolve(baseDir, '.routergpt', 'backups', name)],
  );
  const backupRetention = pick<number>(['file', fileLabel('backup.retention'), raw.backup?.retention], ['default', 'built-in default', 10]);
  // Protected environments need one approval by someone other than the deployer unless the file says otherwise.
  const approvalTimeout = durationOrProblem(raw.approvals?.timeout, fileLabel('approvals.timeout'), problems);
  const approvals: Sourced<{ required: number; allowSelfApproval: boolean; timeoutMs: number }> = {
    value: { required: raw.approvals?.required ?? (protectedEnv.value ? 1 : 0), allowSelfApproval: raw.approvals?.allow_self_approval ?? false, timeoutMs: approvalTimeout ?? 30 * 60_000 },
    source: raw.approvals ? 'file' : 'default',
    origin: raw.approvals ? fileLabel('approvals') : `built-in default (${protectedEnv.value ? 'protected: one approval, not by the deployer' : 'unprotected: none'})`,
  };

  // Known before any message can be built: errors, journals and logs redact them.
  for (const secret of [urlPassword(database.value.kind === 'url' ? database.value.url : undefined), urlPassword(redisUrl.value), openaiApiKey.value, apiKey.value, syntheticKey.value, env.GOOGLE_MAPS_API_KEY, env.RESEND_API_KEY]) registerSecret(secret);

  if (problems.length > 0) {
    throw new ConfigError(
      problems.length === 1 ? `Configuration problem: ${problems[0]}` : `${problems.length} configuration problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'Fix the values above, then run `routergpt config show` to check.',
      { problems },
    );
  }

  return {
    env,
    environments,
    config: {
      name,
      configFile: file ? configFile : undefined,
      protected: protectedEnv,
      database,
      publicApiBase,
      allowedOrigins,
      rateLimits,
      redisUrl,
      openaiApiKey,
      apiKey,
      syntheticKey,
      trustedProxies,
      enableRouterGpt,
      lockTimeoutMs,
      migrationsDir,
      server,
      deploy,
      privacyPolicyUrl,
      logFile,
      allowTestBookings,
      backupDir,
      backupRetention,
      approvals,
      stateDir: { value: path.resolve(baseDir, '.routergpt'), source: 'default', origin: 'built-in default (.routergpt next to the config file)' },
    },
  };
}

/** migrations/ ships beside dist/ and src/ in the package. */
export function defaultMigrationsDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'migrations');
}
