import type { NOTIFY_EVENTS } from './file-schema.js';
import type { WatchLimits } from '../runbook/watch/types.js';
import type { GeocodingSettings } from './geocoding-settings.js';
import type { RetentionSettings } from './retention-settings.js';
import type { MetricSettings } from './metric-targets.js';

/** Where a resolved value came from, in precedence order (STYLE.md §7). */
export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Sourced<T> {
  value: T;
  source: Source;
  /** Human description of the origin: "DATABASE_URL (from the environment)". */
  origin: string;
}

/** One part of a composite value, with the text it was given (an environment variable's), for messages. */
export interface SourcedPart<T> extends Sourced<T> {
  raw: unknown;
}

/** A value whose parts each keep their own source: `RATE_LIMIT_SEARCH_PER_MIN` alone says nothing about the delegate limit. */
export type SourcedParts<T extends object> = Sourced<T> & { parts: { [K in keyof T]: SourcedPart<T[K]> } };

export type DatabaseTarget =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'url'; url: string; variable: string };

export interface RateLimits {
  searchPerMinute: number;
  delegatePerMinute: number;
}

export interface DeployHost {
  name: string;
  /** Prefix every command with this (e.g. `ssh deploy@web-1`). Empty runs locally. */
  via: string[];
  /** The host's own base URL (its /health and smoke checks, bypassing the load balancer). */
  url?: string;
}

/** `deploy.strategy`: hosts batch by batch, each gated on its own /health (steps/code/rolling.ts). */
export interface RolloutStrategy {
  /** Hosts per batch: a count, or a share of the fleet (rounded up, at least one). */
  batch: { count: number } | { percent: number };
  /** Between batches. */
  pauseMs: number;
  /** Failed hosts the rollout tolerates (each rolled back on its own); one more stops it. */
  maxFail: number;
  /** The first batch is one host. */
  canary: boolean;
  canaryBakeMs: number;
  /** How long a host's /health may take to report the new release. */
  gateTimeoutMs: number;
}

export interface DeploySettings {
  hosts: DeployHost[];
  commands: string[];
  rollbackCommands: string[];
  timeoutMs: number;
  /** Unset: every host in turn, no gate between them (the commands alone). */
  strategy?: RolloutStrategy;
  /**
   * `deploy.layout: releases`: each host keeps `<path>/releases/<release>/` and a `current` symlink;
   * `commands` and `rollbackCommands` above are then the generated ones (steps/code/releases-layout.ts).
   */
  releases?: ReleasesLayout;
}

/** `deploy.layout: releases` (Capistrano's layout). */
export interface ReleasesLayout {
  /** The app root on each host (absolute): releases/, current, previous live in it. */
  path: string;
  /** Releases kept per host (never removing the one `current` or `previous` points to). */
  keep: number;
  /** Restarts the server from `<path>/current`. */
  restart: string;
  /** The configured commands, as written (they run inside releases/<release>/). */
  commands: string[];
}

/** The resolved configuration of one environment. Every value remembers its source. */
export interface EnvironmentConfig {
  name: string;
  configFile: string | undefined;
  /** prod-like environments ask for typed confirmation before destructive actions. */
  protected: Sourced<boolean>;
  database: Sourced<DatabaseTarget>;
  publicApiBase: Sourced<string | undefined>;
  allowedOrigins: Sourced<string[]>;
  rateLimits: SourcedParts<RateLimits>;
  redisUrl: Sourced<string | undefined>;
  openaiApiKey: Sourced<string | undefined>;
  apiKey: Sourced<string | undefined>;
  /** Signs routergpt's own requests as synthetic (ROUTERGPT_SYNTHETIC_KEY); unset: the key in routergpt.synthetic_key. */
  syntheticKey: Sourced<string | undefined>;
  trustedProxies: Sourced<string[]>;
  enableRouterGpt: Sourced<boolean>;
  lockTimeoutMs: Sourced<number>;
  migrationsDir: Sourced<string>;
  server: SourcedParts<{ host: string; port: number }>;
  deploy: Sourced<DeploySettings>;
  privacyPolicyUrl: Sourced<string | undefined>;
  logFile: Sourced<string | undefined>;
  /** Whether checks may create real bookings in this environment. */
  allowTestBookings: Sourced<boolean>;
  /** How far ahead a booking may be made, in days (the assistants refuse later times, naming the last day). */
  bookingHorizonDays: Sourced<number>;
  backupDir: Sourced<string>;
  /** Where run journals, locks and the embedded database live (.routergpt/ next to the config). */
  stateDir: Sourced<string>;
  backupRetention: Sourced<number>;
  /** The off-host copy after every verified backup (`backup.copy_command`), and the command that reads the copy's SHA-256 back (`backup.read_back_command`). */
  backupCopy: Sourced<{ command: string; readBack?: string } | undefined>;
  /** Approvals before the change (approval items): how many distinct people, and whether the deployer counts. */
  approvals: Sourced<ApprovalPolicy>;
  /** Success Metrics: each metric's target and minimum sample, each with its source (`metrics:` in the file). */
  metrics: MetricSettings;
  /** `routergpt watch` / api.watch defaults (`watch:` in the file): length, interval, the traffic floor, the absolute limits. */
  watch: Sourced<WatchSettings>;
  /** Webhooks told about runs (`notify:` in the file); a target whose variable is unset has no url and is skipped. */
  notify: Sourced<NotifyTarget[]>;
  /** `geocoding:` — the provider chain, the review thresholds, Google's and Nominatim's settings. */
  geocoding: GeocodingSettings;
  /** `retention:` — when analytics are archived and deleted and chat transcripts anonymised (unset: kept forever). */
  retention: RetentionSettings;
}

export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

export interface NotifyTarget {
  /** The variable holding the URL: how messages name the target (the URL is a secret). */
  name: string;
  url: string | undefined;
  format: 'slack' | 'json';
  events: NotifyEventName[];
  timeoutMs: number;
}

export interface WatchSettings {
  forMs: number;
  intervalMs: number;
  /** Fewer requests than this on a route: its verdicts are inconclusive. */
  minRequests: number;
  limits: WatchLimits;
}

export interface ApprovalPolicy {
  required: number;
  allowSelfApproval: boolean;
  /** How long a deploy without a terminal waits in `waiting-approval` for `routergpt approve`. */
  timeoutMs: number;
}

/** Global flags that feed configuration. */
export interface ConfigFlags {
  env?: string;
  config?: string;
  port?: number;
  host?: string;
}
