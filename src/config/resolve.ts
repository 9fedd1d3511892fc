import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { ConfigError, UsageError } from '../errors.js';
import { parseDurationOrMs } from './duration.js';
import { mergeEnv, readDotEnv } from './dotenv.js';
import { holdsCredential, maskUrl, registerSecret, urlPassword } from './mask.js';
import { routergptCacheDir } from '../lib/cache-dir.js';
import { parseYamlCached } from '../lib/yaml-cache.js';
import { resolveMetricSettings } from './metric-targets.js';
import { CONFIG_AJV_OPTIONS, configFileSchema, configSchemaHash, DURATION_KEYS, ENV_VAR_PATTERN, type RawConfigFile, type RawEnvironment } from './file-schema.js';
import type { ConfigFlags, DatabaseTarget, EnvironmentConfig, NotifyEventName, NotifyTarget, RateLimits, Source, Sourced, SourcedPart } from './types.js';

/** What a `notify:` target without `events:` is told: the runs that need a person. */
const NOTIFY_DEFAULT_EVENTS: readonly NotifyEventName[] = ['approval-needed', 'item-failed', 'run-finished', 'rolled-back', 'watch-verdict'];
import { resolveWatch } from './watch-settings.js';
import { resolveGeocoding } from './geocoding-settings.js';
import { resolveRetention } from './retention-settings.js';
import { resolveDeploy } from './deploy-settings.js';

export const CONFIG_FILE_NAME = 'routergpt.config.yaml';
export const BUILTIN_ENVIRONMENTS = ['local', 'staging', 'prod'] as const;
export const DEFAULT_ALLOWED_ORIGINS = ['https://chat.openai.com', 'https://chatgpt.com'];
/** The largest per-minute rate limit: the maximum of X-RateLimit-Limit in the OpenAPI document. */
export const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000;
/** The booking horizon when booking_horizon_days is not set: about three months, as shops take bookings. */
export const DEFAULT_BOOKING_HORIZON_DAYS = 90;

export interface LoadConfigOptions {
  flags: ConfigFlags;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** False for commands that never touch the database (smoke --base-url): a missing DATABASE_URL is then not an error. */
  requireDatabase?: boolean;
  /** Return the problems (in `problems`) instead of throwing them, for `config show`, which prints the values first. */
  collectProblems?: boolean;
}

export interface LoadedConfig {
  config: EnvironmentConfig;
  environments: string[];
  /** The process environment merged with `.env` (real variables win). */
  env: NodeJS.ProcessEnv;
  /** Only with collectProblems: what would otherwise have been thrown, each naming its fix. */
  problems: string[];
  /** Values the environment needs but nobody set (the database URL of a non-local environment), each with its fix. */
  missing: Array<{ key: string; fix: string }>;
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

/** A value as the user wrote it, for a message: strings quoted, mappings and lists named, never printed (they may hold a URL with a password). */
function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(maskUrl(value));
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null (empty)';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const TYPE_WORDS: Record<string, string> = { integer: 'a whole number', number: 'a number', boolean: 'true or false', string: 'text', array: 'a list', object: 'a mapping', null: 'empty' };

/** Anything close to `word` among `candidates` (one or two typos), for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = tmp;
      }
    }
    return row[b.length]!;
  };
  return candidates.map((c) => [c, distance(word, c)] as const).filter(([, d]) => d <= 2).sort((x, y) => x[1] - y[1])[0]?.[0];
}

/** One readable problem per ajv error: where, the value the user wrote, and what is allowed. */
function schemaProblem(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
  const got = ` (got ${quoteValue(e.data)})`;
  const parent = (e.parentSchema ?? {}) as { minimum?: number; maximum?: number; properties?: Record<string, unknown> };
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const near = closest(key, allowed);
      return `${where}: unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}; allowed: ${allowed.join(', ')}`;
    }
    case 'const':
      return `${where}: must be ${JSON.stringify(e.params.allowedValue)}${got}`;
    case 'type': {
      const types = ([] as string[]).concat(e.params.type as string | string[]).filter((t) => t !== 'null');
      return `${where}: must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}${got}`;
    }
    case 'minimum':
    case 'maximum':
      return parent.minimum !== undefined && parent.maximum !== undefined
        ? `${where}: must be from ${parent.minimum} to ${parent.maximum}${got}`
        : `${where}: must be ${e.keyword === 'minimum' ? '≥' : '≤'} ${String(e.params.limit)}${got}`;
    case 'pattern':
      return e.params.pattern === ENV_VAR_PATTERN ? `${where}: must be an environment variable name (A–Z, 0–9, _)${got}` : `${where}: must match ${String(e.params.pattern)}${got}`;
    case 'minLength':
      return `${where}: must not be empty`;
    case 'required':
      return `${where}: needs "${String(e.params.missingProperty)}"`;
    case 'anyOf':
      return where.endsWith('.database')
        ? `${where}: must be "embedded" or a mapping with url_env, url or data_dir${got}`
        : `${where}: must be a duration (30s, 5m, 2h) or a whole number of milliseconds${got}`;
    default:
      return `${where}: ${e.message ?? 'invalid'}${got}`;
  }
}

/**
 * ajv's errors as problems, one per place. For an anyOf (database, durations) the branches' own
 * complaints are dropped in favour of one message, unless the value is a mapping, whose
 * branch complaints (an unknown key, a bad url_env) are the useful ones.
 */
function schemaProblems(errors: ErrorObject[]): string[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const kept = errors.filter((e) => {
    const owner = anyOfs.find((a) => e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`) && e.instancePath.startsWith(a.instancePath));
    if (!owner) return true;
    const isMapping = typeof owner.data === 'object' && owner.data !== null && !Array.isArray(owner.data);
    return isMapping && !(e.instancePath === owner.instancePath && (e.keyword === 'const' || e.keyword === 'type'));
  });
  const result = kept.filter((e) => {
    if (e.keyword !== 'anyOf') return true;
    // A mapping with its own (kept) complaints: those say it better.
    return !kept.some((k) => k !== e && k.schemaPath.startsWith(`${e.schemaPath}/`));
  });
  return [...new Set(result.map(schemaProblem))];
}

/** Remove what failed the schema, so the rest can still be resolved (and its problems reported with these). */
function withoutInvalid(parsed: Record<string, unknown>, errors: ErrorObject[]): Record<string, unknown> {
  const copy = structuredClone(parsed);
  for (const e of errors) {
    const parts = e.instancePath.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty));
    const at = (depth: number): unknown => {
      let node: unknown = copy;
      for (const part of parts.slice(0, depth)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
      return node;
    };
    // A bad item drops its whole list (a list with holes would be worse than the default).
    while (parts.length > 1 && Array.isArray(at(parts.length - 1))) parts.pop();
    if (parts.length === 0) continue;
    const node = at(parts.length - 1);
    if (typeof node !== 'object' || node === null) continue;
    const last = parts[parts.length - 1]!;
    // An environment keeps its name (as an empty one), so --env still finds it.
    if (parts.length === 2 && parts[0] === 'environments') (node as Record<string, unknown>)[last] = null;
    else delete (node as Record<string, unknown>)[last];
  }
  return copy;
}

/** The file, parsed; what fails the schema is reported in `problems` and left out of `file`. */
type RawCandidate<T> = [Source, string, T | string | undefined];

/** Like pick, for values that may come as text (the environment): a number is parsed, the text kept for messages. */
function pickInt<T extends number | string = number>(...candidates: RawCandidate<T>[]): SourcedPart<T> {
  for (const [source, origin, raw] of candidates) {
    if (raw === undefined || raw === '') continue;
    const isNumber = typeof candidates[candidates.length - 1]![2] === 'number';
    const value = (isNumber && typeof raw === 'string' ? (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN) : raw) as T;
    return { value, source, origin, raw };
  }
  const [source, origin, value] = candidates[candidates.length - 1]!;
  return { value: value as T, source, origin, raw: value };
}

const PRECEDENCE: Source[] = ['flag', 'env', 'file', 'default'];

/**
 * A value made of parts that each keep their own source (server host and port, the two rate
 * limits). The whole's source is its highest-precedence part's; its origin names every part's.
 */
function composite<T extends object>(parts: { [K in keyof T]: SourcedPart<T[K]> }): Sourced<T> & { parts: typeof parts } {
  const list = Object.values(parts) as SourcedPart<unknown>[];
  const value = Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, (p as SourcedPart<unknown>).value])) as T;
  const source = PRECEDENCE.find((s) => list.some((p) => p.source === s)) ?? 'default';
  return { value, source, origin: [...new Set(list.map((p) => p.origin))].join(', '), parts };
}

function quoteRaw(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
}

// ajv is loaded only when there is a config file to read (a fresh clone has none) and the build's
// precompiled validator does not fit (issue 16); the YAML parser only through the parse cache
// (readConfigFile). CommonJS, so a require keeps loading the configuration synchronous.
const requireDep = createRequire(import.meta.url);

type ConfigValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validator: ConfigValidator | undefined;

/**
 * The file's validator: the one the build compiled (scripts/build-validators.mjs) when it was made
 * from this very schema and these options, else ajv compiling it now (from src/, or a stale dist/).
 */
export function configValidator(): ConfigValidator {
  if (validator) return validator;
  try {
    const built = requireDep('./file-schema.validate.cjs') as ConfigValidator & { default?: ConfigValidator; schemaHash?: string };
    if (built.schemaHash === configSchemaHash()) return (validator = built.default ?? built);
  } catch {
    /* not built (running from src/): compiled below */
  }
  const { Ajv } = requireDep('ajv') as typeof import('ajv');
  return (validator = new Ajv(CONFIG_AJV_OPTIONS).compile(configFileSchema) as ConfigValidator);
}

function readConfigFile(file: string): { file: RawConfigFile; problems: string[] } {
  let parsed: unknown;
  try {
    // Through the YAML cache only when the file holds no credential (a literal database URL with
    // its password stays in the file alone): most configurations name variables instead, and then
    // a command need not load the YAML parser (≈ 30 ms) to read its own settings.
    parsed = parseYamlCached(readFileSync(file, 'utf8'), routergptCacheDir(), { storable: (value) => !holdsCredential(value) });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`${path.basename(file)} is not valid YAML: ${reason}`, `Fix the YAML syntax in ${file}.`);
  }
  if (parsed === null || parsed === undefined) return { file: {}, problems: [] };
  const validate = configValidator();
  const errors = validate(parsed) ? [] : validate.errors ?? [];
  const problems = [...schemaProblems(errors), ...durationProblems(parsed)].map((p) => `${path.basename(file)}: ${p}`);
  if (errors.length === 0) return { file: parsed as RawConfigFile, problems };
  const usable = typeof parsed === 'object' && !Array.isArray(parsed) ? withoutInvalid(parsed as Record<string, unknown>, errors) : {};
  return { file: usable as RawConfigFile, problems };
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

export function loadConfig({ flags, cwd, env: processEnv, requireDatabase = true, collectProblems = false }: LoadConfigOptions): LoadedConfig {
  const explicit = flags.config ?? processEnv.ROUTERGPT_CONFIG;
  const configFile = explicit ? path.resolve(cwd, explicit) : path.join(cwd, CONFIG_FILE_NAME);
  if (explicit && !existsSync(configFile)) {
    throw new ConfigError(`Config file not found: ${configFile}`, 'Check the --config path, or run `routergpt init` to create one.');
  }
  const read = existsSync(configFile) ? readConfigFile(configFile) : undefined;
  const file = read?.file;
  const baseDir = read ? path.dirname(configFile) : cwd;
  const dotEnv = readDotEnv(path.join(baseDir, '.env'));
  const env = mergeEnv(processEnv, dotEnv);
  // A real variable wins over .env, so only the ones it does not override are "from .env".
  const fromDotEnv = new Set(Object.keys(dotEnv).filter((k) => processEnv[k] === undefined));

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
  const envLabel = (variable: string) => `${variable} (${fromDotEnv.has(variable) ? 'from .env' : 'from the environment'})`;
  // Schema and value problems are reported together, in one error.
  const problems: string[] = [...(read?.problems ?? [])];
  const missing: LoadedConfig['missing'] = [];
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
      missing.push({ key: variable, fix: `set ${variable} in the environment or .env` });
      if (requireDatabase) problems.push(`${variable} is not set: environment "${name}" takes its database URL from it. Set ${variable} in the environment or .env, or use --env local for the embedded database.`);
    }
    const url = database.value.kind === 'url' ? database.value.url : '';
    if (url) {
      let parsedUrl: URL | undefined;
      try {
        parsedUrl = new URL(url);
      } catch {
        problems.push(`${database.origin} is ${JSON.stringify(maskUrl(url))}, not a valid URL: use postgres://USER:PASSWORD@HOST:5432/DBNAME.`);
      }
      if (parsedUrl && !/^postgres(ql)?(\+\w+)?:$/.test(parsedUrl.protocol)) {
        problems.push(`${database.origin} has scheme "${parsedUrl.protocol}//"; it must be postgres:// or postgresql://.`);
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
      problems.push(`${publicApiBase.origin} is ${JSON.stringify(publicApiBase.value)}, not a URL: it must be an absolute http(s) URL.`);
    }
  }

  const allowedOrigins = pick<string[]>(
    ['env', envLabel('ALLOWED_ORIGINS'), splitList(env.ALLOWED_ORIGINS)],
    ['file', fileLabel('allowed_origins'), raw.allowed_origins],
    ['default', 'built-in default', DEFAULT_ALLOWED_ORIGINS],
  );
  for (const origin of allowedOrigins.value) {
    if (origin === '*') problems.push(`${allowedOrigins.origin} contains "*": list the allowed origins explicitly.`);
  }

  const rateLimits = composite<RateLimits>({
    searchPerMinute: pickInt(
      ['env', envLabel('RATE_LIMIT_SEARCH_PER_MIN'), env.RATE_LIMIT_SEARCH_PER_MIN],
      ['file', fileLabel('rate_limits.search_per_minute'), raw.rate_limits?.search_per_minute],
      ['default', 'built-in default', 20],
    ),
    delegatePerMinute: pickInt(
      ['env', envLabel('RATE_LIMIT_DELEGATE_PER_MIN'), env.RATE_LIMIT_DELEGATE_PER_MIN],
      ['file', fileLabel('rate_limits.delegate_per_minute'), raw.rate_limits?.delegate_per_minute],
      ['default', 'built-in default', 10],
    ),
  });
  for (const part of Object.values(rateLimits.parts)) {
    if (!Number.isInteger(part.value) || part.value < 1) problems.push(`${part.origin} is ${quoteRaw(part.raw)}: a rate limit must be a whole number ≥ 1.`);
    // The bound openapi/openapi_chatgpt.yaml publishes for X-RateLimit-Limit (A14).
    else if (part.value > MAX_RATE_LIMIT_PER_MINUTE) problems.push(`${part.origin} is ${quoteRaw(part.raw)}: a rate limit must be at most ${MAX_RATE_LIMIT_PER_MINUTE} per minute.`);
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
  const server = composite<{ host: string; port: number }>({
    host: pickInt<string>(
      ['flag', '--host', flags.host],
      ['env', envLabel('HOST'), env.HOST || undefined],
      ['file', fileLabel('server.host'), raw.server?.host],
      ['default', 'built-in default', '127.0.0.1'],
    ),
    port: pickInt(
      ['flag', '--port', flags.port],
      ['env', envLabel('PORT'), env.PORT],
      ['file', fileLabel('server.port'), raw.server?.port],
      ['default', 'built-in default', 8787],
    ),
  });
  const port = server.parts.port;
  if (!Number.isInteger(port.value) || port.value < 0 || port.value > 65535) {
    problems.push(`${port.origin} is ${quoteRaw(port.raw)}: the port must be a whole number from 0 to 65535.`);
  }
  const deploy = resolveDeploy(raw.deploy, fileLabel, (value, where) => durationOrProblem(value, where, problems), problems);
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
  const bookingHorizonDays = pick<number>(['file', fileLabel('booking_horizon_days'), raw.booking_horizon_days], ['default', 'built-in default', DEFAULT_BOOKING_HORIZON_DAYS]);
  const backupDir = pick<string>(
    ['env', envLabel('ROUTERGPT_BACKUP_DIR'), env.ROUTERGPT_BACKUP_DIR ? path.resolve(cwd, env.ROUTERGPT_BACKUP_DIR) : undefined],
    ['file', fileLabel('backup.dir'), raw.backup?.dir ? path.resolve(baseDir, raw.backup.dir) : undefined],
    ['default', 'built-in default', path.resolve(baseDir, '.routergpt', 'backups', name)],
  );
  const backupRetention = pick<number>(['file', fileLabel('backup.retention'), raw.backup?.retention], ['default', 'built-in default', 10]);
  if (raw.backup?.read_back_command && !raw.backup.copy_command) problems.push(`${fileLabel('backup.read_back_command')} reads back a copy, and there is no backup.copy_command making one: set both, or neither.`);
  const backupCopy: Sourced<{ command: string; readBack?: string } | undefined> = raw.backup?.copy_command
    ? { value: { command: raw.backup.copy_command, ...(raw.backup.read_back_command ? { readBack: raw.backup.read_back_command } : {}) }, source: 'file', origin: fileLabel('backup.copy_command') }
    : { value: undefined, source: 'default', origin: 'not set (backups stay on this host)' };
  // Protected environments need one approval by someone other than the deployer unless the file says otherwise.
  const approvalTimeout = durationOrProblem(raw.approvals?.timeout, fileLabel('approvals.timeout'), problems);
  const approvals: Sourced<{ required: number; allowSelfApproval: boolean; timeoutMs: number }> = {
    value: { required: raw.approvals?.required ?? (protectedEnv.value ? 1 : 0), allowSelfApproval: raw.approvals?.allow_self_approval ?? false, timeoutMs: approvalTimeout ?? 30 * 60_000 },
    source: raw.approvals ? 'file' : 'default',
    origin: raw.approvals ? fileLabel('approvals') : `built-in default (${protectedEnv.value ? 'protected: one approval, not by the deployer' : 'unprotected: none'})`,
  };
  const responseTimeTarget = raw.metrics?.targets?.response_time;
  const metrics = resolveMetricSettings(raw.metrics, durationOrProblem(responseTimeTarget, fileLabel('metrics.targets.response_time'), problems), fileLabel);

  const watch = resolveWatch(raw.watch, fileLabel, (value, where) => durationOrProblem(value, where, problems), problems);
  const geocoding = resolveGeocoding(raw.geocoding, env, fileLabel, envLabel, problems);
  const retention = resolveRetention(raw.retention, watch, fileLabel, problems);

  // Webhooks: the URL comes from the named variable (environment or .env) and is a secret. A
  // target whose variable is not set is kept without a url: `config show` marks it, runs skip it.
  const notify: Sourced<NotifyTarget[]> = {
    value: (raw.notify ?? []).map((t, i) => ({
      name: t.url_env,
      url: env[t.url_env] || undefined,
      format: t.format ?? 'json',
      events: (t.events ?? [...NOTIFY_DEFAULT_EVENTS]) as NotifyEventName[],
      timeoutMs: durationOrProblem(t.timeout, fileLabel(`notify[${i}].timeout`), problems) ?? 5000,
    })),
    source: raw.notify ? 'file' : 'default',
    origin: raw.notify ? fileLabel('notify') : 'built-in default (no webhooks)',
  };
  for (const t of notify.value) registerSecret(t.url);

  // Known before any message can be built: errors, journals and logs redact them.
  for (const secret of [urlPassword(database.value.kind === 'url' ? database.value.url : undefined), urlPassword(redisUrl.value), openaiApiKey.value, apiKey.value, syntheticKey.value, env.GOOGLE_MAPS_API_KEY, env.RESEND_API_KEY]) registerSecret(secret);

  const unique = [...new Set(problems)];
  if (unique.length > 0 && !collectProblems) throw configProblems(unique, name, { configFile: read ? configFile : undefined });

  return {
    env,
    environments,
    problems: unique,
    missing,
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
      bookingHorizonDays,
      backupDir,
      backupRetention,
      backupCopy,
      approvals,
      metrics,
      watch,
      geocoding,
      retention,
      notify,
      stateDir: { value: path.resolve(baseDir, '.routergpt'), source: 'default', origin: 'built-in default (.routergpt next to the config file)' },
    },
  };
}

/**
 * The error for configuration problems. Each problem names its own fix, so the hint only says how
 * to check afterwards; "the values above" is `config show`'s to say, which prints them.
 */
export function configProblems(problems: string[], envName: string, options: { hint?: string; configFile?: string } = {}): ConfigError {
  // All in the config file: said once, in the heading ("routergpt.config.yaml has 2 problems:").
  const file = /^([^\s:]+\.ya?ml): /.exec(problems[0] ?? '')?.[1];
  const inFile = file !== undefined && problems.every((p) => p.startsWith(`${file}: `));
  const list = (items: string[]) => items.map((p) => `  - ${p}`).join('\n');
  const message = inFile
    ? `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${list(problems.map((p) => p.slice(file.length + 2)))}`
    : problems.length === 1 ? `Configuration problem: ${problems[0]}` : `${problems.length} configuration problems:\n${list(problems)}`;
  return new ConfigError(
    message,
    options.hint ?? `${inFile ? `Fix ${options.configFile ?? file} (see docs/configuration.md)` : problems.length === 1 ? 'Fix it as said' : 'Fix each as said'}, then run \`routergpt config show --env ${envName}\` to check.`,
    { problems },
  );
}

/** migrations/ ships beside dist/ and src/ in the package. */
export function defaultMigrationsDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'migrations');
}
