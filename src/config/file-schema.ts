import { createHash } from 'node:crypto';
import { GEOCODING_SCHEMA } from './geocoding-settings.js';
import { RETENTION_SCHEMA } from './retention-settings.js';
import { METRIC_DURATION_KEYS, metricsSchema, type RawMetrics } from './metric-targets.js';

/**
 * The raw shape of routergpt.config.yaml, as a JSON schema. Raw and resolved config are
 * different types (STYLE.md §6): this describes what a person writes; resolve.ts turns it
 * into an EnvironmentConfig where every value knows its source.
 */
export interface RawEnvironment {
  database?: 'embedded' | { url_env?: string; url?: string; data_dir?: string };
  protected?: boolean;
  public_api_base?: string;
  allowed_origins?: string[];
  rate_limits?: { search_per_minute?: number; delegate_per_minute?: number };
  redis_url_env?: string;
  trusted_proxies?: string[];
  enable_router_gpt?: boolean;
  lock_timeout?: string | number;
  migrations_dir?: string;
  server?: { host?: string; port?: number };
  deploy?: {
    hosts?: Array<{ name: string; via?: string[]; url?: string }>;
    /** Rolling deploys across the hosts (steps/code/rolling.ts, docs/fleet.md). */
    strategy?: { batch?: number | string; pause?: string | number; max_fail?: number; canary?: boolean; canary_bake?: string | number; gate_timeout?: string | number };
    commands?: string[];
    rollback_commands?: string[];
    timeout?: string | number;
    /** `releases`: releases/<release>/ + a `current` symlink per host (steps/code/releases-layout.ts, docs/fleet.md). */
    layout?: 'commands' | 'releases';
    path?: string;
    keep_releases?: number;
    restart?: string;
  };
  privacy_policy_url?: string;
  log_file?: string;
  allow_test_bookings?: boolean;
  booking_horizon_days?: number;
  backup?: { dir?: string; retention?: number; copy_command?: string; read_back_command?: string };
  approvals?: { required?: number; allow_self_approval?: boolean; timeout?: string | number };
  /** Success Metrics targets and minimum samples (metric-targets.ts). */
  metrics?: RawMetrics;
  /** Webhooks told about runs (runbook/notify.ts, docs/notifications.md). */
  notify?: Array<{ url_env: string; format?: 'slack' | 'json'; events?: string[]; timeout?: string | number }>;
  watch?: {
    for?: string;
    interval?: string;
    min_requests?: number;
    limits?: { p95?: { search?: string; delegate?: string; chat?: string; feedback?: string }; error_rate_percent?: number; rate_429_percent?: number };
  };
  /** Geocoding providers and their limits (geocoding-settings.ts, docs/geocoding.md). */
  geocoding?: {
    provider?: string | string[];
    accuracy_min?: string;
    moved_warn_m?: number;
    google?: { cache_days?: number; qps?: number };
    nominatim?: { email?: string };
  };
  /** How long analytics and chat transcripts are kept (retention-settings.ts, docs/maintenance.md#retention). */
  retention?: { analytics_archive_days?: number; analytics_delete_days?: number; chat_anonymise_days?: number };
}

export interface RawConfigFile {
  version?: 1;
  default_env?: string;
  environments?: Record<string, RawEnvironment | null>;
}

// The grammar (and the bare milliseconds these keys took before it) is checked by resolve.ts with
// parseDurationOrMs, for every environment, so a bad value gets one readable message, not ajv's
// three anyOf errors.
const duration = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] };

/** The keys of an environment that hold a duration, as paths, for checking every environment. */
export const DURATION_KEYS = [['lock_timeout'], ['deploy', 'timeout'], ['deploy', 'strategy', 'pause'], ['deploy', 'strategy', 'canary_bake'], ['deploy', 'strategy', 'gate_timeout'], ['approvals', 'timeout'], ...METRIC_DURATION_KEYS, ['watch', 'for'], ['watch', 'interval'], ['watch', 'limits', 'p95', 'search'], ['watch', 'limits', 'p95', 'delegate'], ['watch', 'limits', 'p95', 'chat'], ['watch', 'limits', 'p95', 'feedback']] as const;
/** The run events a `notify:` target may ask for (runbook/notify.ts). */
export const NOTIFY_EVENTS = ['run-started', 'approval-needed', 'item-failed', 'run-finished', 'rolled-back', 'watch-verdict'] as const;
/** The shape of a variable name (`url_env`, `redis_url_env`). */
export const ENV_VAR_PATTERN = '^[A-Z_][A-Z0-9_]*$';
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } };

const environmentSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    database: {
      anyOf: [
        { const: 'embedded' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { url_env: { type: 'string', pattern: ENV_VAR_PATTERN }, url: { type: 'string' }, data_dir: { type: 'string' } },
        },
      ],
    },
    protected: { type: 'boolean' },
    public_api_base: { type: 'string' },
    allowed_origins: stringList,
    rate_limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        search_per_minute: { type: 'integer', minimum: 1 },
        delegate_per_minute: { type: 'integer', minimum: 1 },
      },
    },
    redis_url_env: { type: 'string', pattern: ENV_VAR_PATTERN },
    trusted_proxies: stringList,
    enable_router_gpt: { type: 'boolean' },
    lock_timeout: duration,
    migrations_dir: { type: 'string' },
    server: {
      type: 'object',
      additionalProperties: false,
      properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    deploy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        hosts: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string', minLength: 1 }, via: stringList, url: { type: 'string' } },
          },
        },
        // batch's range ("0", "150%") is checked by resolve.ts, for one message naming the fix.
        strategy: {
          type: 'object',
          additionalProperties: false,
          properties: {
            batch: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
            pause: duration,
            max_fail: { type: 'integer', minimum: 0 },
            canary: { type: 'boolean' },
            canary_bake: duration,
            gate_timeout: duration,
          },
        },
        commands: stringList,
        rollback_commands: stringList,
        timeout: duration,
        layout: { enum: ['commands', 'releases'] },
        path: { type: 'string' },
        keep_releases: { type: 'integer' },
        restart: { type: 'string' },
      },
    },
    privacy_policy_url: { type: 'string' },
    log_file: { type: 'string' },
    allow_test_bookings: { type: 'boolean' },
    booking_horizon_days: { type: 'integer', minimum: 1, maximum: 3660 },
    backup: {
      type: 'object',
      additionalProperties: false,
      properties: { dir: { type: 'string' }, retention: { type: 'integer', minimum: 1 }, copy_command: { type: 'string', minLength: 1 }, read_back_command: { type: 'string', minLength: 1 } },
    },
    approvals: {
      type: 'object',
      additionalProperties: false,
      properties: { required: { type: 'integer', minimum: 0, maximum: 10 }, allow_self_approval: { type: 'boolean' }, timeout: duration },
    },
    metrics: metricsSchema,
    geocoding: GEOCODING_SCHEMA,
    retention: RETENTION_SCHEMA,
    notify: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url_env'],
        properties: {
          url_env: { type: 'string', pattern: ENV_VAR_PATTERN },
          format: { enum: ['slack', 'json'] },
          events: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: NOTIFY_EVENTS } },
          timeout: duration,
        },
      },
    },
    watch: {
      type: 'object',
      additionalProperties: false,
      properties: {
        for: { type: 'string' },
        interval: { type: 'string' },
        min_requests: { type: 'integer', minimum: 1 },
        limits: {
          type: 'object',
          additionalProperties: false,
          properties: {
            p95: {
              type: 'object',
              additionalProperties: false,
              properties: { search: { type: 'string' }, delegate: { type: 'string' }, chat: { type: 'string' }, feedback: { type: 'string' } },
            },
            error_rate_percent: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
            rate_429_percent: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
          },
        },
      },
    },
  },
} as const;

export const configFileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    default_env: { type: 'string' },
    environments: { type: 'object', additionalProperties: environmentSchema },
  },
} as const;

/** The ajv options the file is validated with (src/config/resolve.ts, and the build's precompiled validator). */
export const CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

let hash: string | undefined;
/** What the precompiled validator (dist/config/file-schema.validate.cjs) must have been made from. */
export function configSchemaHash(): string {
  return (hash ??= createHash('sha256').update(JSON.stringify([configFileSchema, CONFIG_AJV_OPTIONS])).digest('hex'));
}
