import path from 'node:path';
import type { IO } from '../../cli/io.js';
import { canPrompt, terminalPrompter, type Prompter } from '../../cli/prompter.js';
import { isGeocoderName } from '../../config/geocoding-settings.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase, type Database } from '../../db/connect.js';
import { UsageError } from '../../errors.js';
import { checkReview } from '../../geocode/apply.js';
import { propose, type Proposal } from '../../geocode/batch.js';
import { readReviewFile, writeReviewFile, type ReviewRow } from '../../geocode/review-file.js';
import { unknownProvider } from '../../geocode/select.js';
import { hasAddress, selectShops, shopSchema, type ShopSchema } from '../../geocode/shops.js';
import { plural } from '../../lib/plural.js';
import { runObserver } from '../../report/run-live.js';
import type { RunItem } from '../../runbook/items.js';
import type { RunObserver } from '../../runbook/events.js';
import type { RunRecord } from '../../runbook/journal.js';
import { itemsFor } from '../../runbook/checklist.js';
import { loadEnvChecklist } from '../../runbook/known-ids.js';
import type { PlanEntry } from '../../runbook/plan.js';
import { withJournaledRun } from '../../runbook/run.js';
import { RunRepository } from '../../runbook/runs.js';
import { concurrencyOf, describeChain, flagSettings, geocodeParams, geocodersFor, selectionOf, type GeocodeParams } from '../../steps/db/geocode-shops.js';

export interface GeocodeOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  dryRun: boolean;
  /** --provider: one name or a comma-separated chain, instead of geocoding.provider. */
  provider?: string;
  limit?: number;
  shops?: string[];
  refreshExpired?: boolean;
  /** --review FILE (with --dry-run): the proposals as CSV or JSON for a person to check. */
  review?: string;
  /** --apply FILE: exactly the reviewed rows. */
  apply?: string;
  batch?: number;
  resume?: string | true;
  yes: boolean;
  /** --no-backup: skip the verified backup (refused on protected environments). */
  noBackup?: boolean;
  as?: string;
  prompter?: Prompter;
  observer?: RunObserver;
  now?: () => Date;
}

/** One row of the dry run's table and review file. */
export interface GeocodeRow extends ReviewRow {
  /** The formatted answer ("1 N Central Ave, Phoenix, AZ 85004, USA"). */
  formatted?: string;
  moved_m?: number;
}

export interface GeocodeDryRun {
  kind: 'dry-run';
  env: string;
  providers: string;
  rows: GeocodeRow[];
  /** With --apply --dry-run: what would be applied. */
  apply?: { file: string; rows: number; empty: number };
  review?: { file: string; format: string };
  calls: number;
  cacheHits: number;
  unresolved: number;
  flagged: number;
  attributions: string[];
}

export interface GeocodeRun {
  kind: 'run';
  plan: PlanEntry[];
  run: RunRecord;
}

export type GeocodeResult = GeocodeDryRun | GeocodeRun;

const STEP = 'db.geocode-shops';

function paramsOf(options: GeocodeOptions): Record<string, unknown> {
  return {
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.shops ? { shops: options.shops } : {}),
    ...(options.refreshExpired ? { refreshExpired: true } : {}),
    ...(options.batch !== undefined ? { batch: options.batch } : {}),
    ...(options.apply ? { apply: path.resolve(options.cwd, options.apply) } : {}),
  };
}

/** The db.geocode-shops parameters of the environment's checklist (sample, batch…), under the flags. */
function checklistParams(config: EnvironmentConfig, cwd: string): Record<string, unknown> {
  try {
    const checklist = loadEnvChecklist(config, cwd);
    const item = itemsFor(checklist, 'deploy').find((i) => i.kind === 'step' && i.id === STEP);
    return item?.kind === 'step' ? { ...item.params } : {};
  } catch {
    return {};
  }
}

export function verifyProviders(provider: string | undefined): void {
  if (provider === undefined) return;
  const names = provider.split(',').map((p) => p.trim());
  if (names.some((n) => n === '')) throw new UsageError(`--provider "${provider}" has an empty name.`, 'Give one provider or a comma-separated chain, e.g. --provider google,offline.');
  for (const name of names) if (!isGeocoderName(name)) throw unknownProvider(name);
}

/** Everything that can refuse does so before anything is asked or written (exit 2). */
async function preflight(db: Database, schema: ShopSchema, p: GeocodeParams, now: Date): Promise<void> {
  if (!schema.shops) throw new UsageError('The database has no shops table yet.', 'Apply the migrations first (`routergpt migrate up`, or `routergpt deploy`); nothing was changed.');
  if (p.apply) return;
  if (p.shops) {
    const known = new Set((await selectShops(db.pool, schema, { slugs: p.shops }, { now })).map((s) => s.slug));
    const unknown = p.shops.filter((s) => !known.has(s));
    if (unknown.length) throw new UsageError(`No such shop: ${unknown.join(', ')}.`, 'Check the slugs (`routergpt db psql -c "SELECT slug FROM shops"`); nothing was changed.');
  }
  const bare = (await selectShops(db.pool, schema, selectionOf(p), { now, ...(p.limit !== undefined ? { limit: p.limit } : {}) })).filter((s) => !hasAddress(s));
  if (bare.length) {
    throw new UsageError(
      `${plural(bare.length, 'shop has', 'shops have')} no address at all (no address, city, state or postal code): ${bare.slice(0, 10).map((s) => s.slug).join(', ')}${bare.length > 10 ? ', …' : ''}.`,
      "Give them an address (or coordinates by hand, with geocode_source = 'manual'), or leave them out with --shops SLUG,…; nothing was asked or written.",
    );
  }
}

/**
 * `routergpt geocode`: the db.geocode-shops step on its own. `--dry-run` takes no lock and
 * writes nothing to shops (answers go to the cache): the proposals with their flags, and
 * `--review FILE` for a person. Otherwise a journaled run (kind `geocode`) of a verified backup
 * (unless --no-backup, refused on protected environments) and the step — batches, checkpoints,
 * `--resume` — or `--apply FILE`, exactly the reviewed rows.
 */
export async function runGeocode(options: GeocodeOptions): Promise<GeocodeResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  verifyProviders(options.provider);
  if (!options.dryRun && options.noBackup && config.protected.value) {
    throw new UsageError(`--no-backup is refused on ${config.name}: it is a protected environment, and geocoding changes user data.`, 'Drop --no-backup: the command takes and verifies a backup first; nothing was changed.');
  }
  const prompter = options.prompter ?? (canPrompt(io) ? terminalPrompter(io) : undefined);
  if (!options.dryRun && !options.yes && !prompter) throw new UsageError(`Geocoding ${config.name} writes shop coordinates and needs confirmation, and there is no terminal to ask on.`, 'Re-run with --yes to confirm non-interactively (or --dry-run to see the proposals first); nothing was changed.');
  const params = geocodeParams({ ...checklistParams(config, options.cwd), ...paramsOf(options) });

  const db = await openDatabase(config, { applicationName: `routergpt geocode${options.dryRun ? ' --dry-run' : ''}`, poolSize: 20 });
  try {
    const schema = await shopSchema(db.pool);
    if (options.dryRun) return await dryRun(options, db, schema, params, now);
    const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
    const resumed = options.resume !== undefined ? await runs.resumable('geocode', options.resume) : undefined;
    const effective = resumed ? resumedParams(resumed, params, options) : params;
    await preflight(db, schema, effective, now());
    let what: string;
    if (effective.apply) {
      const review = await checkReview(db.pool, schema, effective.apply, readReviewFile(effective.apply));
      what = `Apply ${plural(review.rows.length, 'reviewed row')} of ${effective.apply} to ${config.name}`;
    } else {
      // The chain is built now so a missing key or contact e-mail refuses before the backup.
      const chain = geocodersFor({ config, db }, effective);
      what = `Geocode the shops of ${config.name} with ${describeChain(chain)} and write their coordinates`;
      await chain.close();
    }
    if (!options.yes) {
      const { confirmOrThrow } = await import('../../cli/confirm.js');
      await confirmOrThrow({ io, yes: false, ...(config.protected.value ? { typed: config.name } : {}), message: `${what} (${db.display})?`, ...(prompter ? { prompter } : {}) });
    }
    // sample 0: the plan printed before the run asks no provider (an answer it got would not be cached, and the run would ask again).
    const stepParams: Record<string, unknown> = { ...(effective.providers ? { provider: effective.providers.join(',') } : {}), sample: 0, batch: effective.batch, ...(effective.limit !== undefined ? { limit: effective.limit } : {}), ...(effective.shops ? { shops: effective.shops } : {}), ...(effective.refreshExpired ? { refreshExpired: true } : {}), ...(effective.apply ? { apply: effective.apply } : {}) };
    const noBackup = resumed ? !resumed.items.some((i) => i.id === 'db.backup') : Boolean(options.noBackup);
    const items: RunItem[] = [
      ...(noBackup ? [] : [{ kind: 'step' as const, id: 'db.backup', params: { label: 'pre-geocode' }, phase: 'backup', title: 'Back up the database (verified) before geocoding' }]),
      { kind: 'step', id: STEP, params: stepParams, phase: 'geocode', title: effective.apply ? `Apply the reviewed file ${path.basename(effective.apply)}` : 'Geocode shops (in batches, checkpointed)', ...(noBackup ? { backupWaived: '--no-backup' } : {}) },
    ];
    const emit = options.observer ?? (await runObserver(io.stderr, { terminal: io.stderrIsTTY, asks: false }));
    try {
      const result = await withJournaledRun({
        kind: 'geocode',
        config,
        io,
        db,
        items,
        checklist: { name: 'geocode', file: '(none: routergpt geocode)' },
        ...(resumed ? { resume: resumed } : {}),
        dryRun: false,
        // Confirmed above (typed on protected environments), or --yes.
        yes: true,
        prompter,
        emit,
        heading: `${what} (${db.display})${noBackup ? ' — without a backup (--no-backup)' : ''}`,
        confirm: what,
        ...(options.as !== undefined ? { as: options.as } : {}),
        now,
        deps: { cwd: options.cwd, ensureApi: async () => undefined, runChecks: async () => [] },
      });
      return { kind: 'run', plan: result.plan, run: result.run! };
    } finally {
      await (emit as { flush?: () => Promise<void> }).flush?.();
    }
  } finally {
    await db.close();
  }
}

/** A resumed run keeps the parameters it started with; flags that name others are refused. */
function resumedParams(record: RunRecord, given: GeocodeParams, options: GeocodeOptions): GeocodeParams {
  const saved = record.items.find((i) => i.id === STEP)?.checkpoint?.params as Record<string, unknown> | undefined;
  if (!saved) return given;
  const before = geocodeParams(saved);
  const explicit = options.provider !== undefined || options.limit !== undefined || options.shops !== undefined || options.refreshExpired || options.apply !== undefined || options.batch !== undefined;
  if (explicit && JSON.stringify({ ...given, sample: 0 }) !== JSON.stringify({ ...before, sample: 0 })) {
    throw new UsageError(`Run ${record.id} geocodes with other parameters than these flags.`, `Resume it with \`routergpt geocode --env ${record.env} --resume ${record.id}\` alone, or start a new run without --resume; nothing was changed.`);
  }
  return before;
}

function rowOf(p: Proposal): GeocodeRow {
  return {
    slug: p.shop.slug,
    shop_updated_at: p.shop.updated_at,
    address_sent: p.addressSent,
    latitude: p.result?.latitude ?? null,
    longitude: p.result?.longitude ?? null,
    accuracy: p.result?.accuracy ?? null,
    provider: p.provider,
    flags: p.flags,
    ...(p.result?.formatted ? { formatted: p.result.formatted } : {}),
    ...(p.movedM !== undefined ? { moved_m: p.movedM } : {}),
  };
}

async function dryRun(options: GeocodeOptions, db: Database, schema: ShopSchema, p: GeocodeParams, now: () => Date): Promise<GeocodeDryRun> {
  const { config } = options;
  await preflight(db, schema, p, now());
  if (p.apply) {
    const review = await checkReview(db.pool, schema, p.apply, readReviewFile(p.apply));
    const rows = review.rows.map(({ row }) => ({ ...row }));
    return { kind: 'dry-run', env: config.name, providers: [...new Set(rows.map((r) => r.provider))].join(', '), rows, apply: { file: p.apply, rows: review.rows.length, empty: review.empty.length }, calls: 0, cacheHits: 0, unresolved: review.empty.length, flagged: 0, attributions: [] };
  }
  const chain = geocodersFor({ config, db }, p);
  const rows: GeocodeRow[] = [];
  let calls = 0;
  let cacheHits = 0;
  try {
    let afterId: string | undefined;
    const settings = flagSettings({ config });
    // In batches, like the real run: the same lookups, through the cache (so the real run and
    // --apply find these answers there), never a write to shops.
    for (;;) {
      const room = p.limit === undefined ? p.batch : Math.min(p.batch, p.limit - rows.length);
      if (room <= 0) break;
      const shops = await selectShops(db.pool, schema, selectionOf(p), { now: now(), limit: room, ...(afterId ? { afterId } : {}) });
      if (shops.length === 0) break;
      const got = await propose(db.pool, chain, shops, { now: now(), settings, schema, concurrency: concurrencyOf(chain), readOnly: !schema.cache });
      calls += got.calls;
      cacheHits += got.cacheHits;
      rows.push(...got.proposals.map(rowOf));
      afterId = shops.at(-1)!.id;
    }
  } finally {
    await chain.close();
  }
  // Two shops at different addresses on one point, across batches too.
  crossBatchSamePoints(rows);
  const result: GeocodeDryRun = {
    kind: 'dry-run',
    env: config.name,
    providers: chain.geocoders.map((g) => g.name).join(', '),
    rows,
    calls,
    cacheHits,
    unresolved: rows.filter((r) => r.latitude === null).length,
    flagged: rows.filter((r) => r.latitude !== null && r.flags.length > 0).length,
    attributions: chain.attributions,
  };
  if (options.review) {
    const file = path.resolve(options.cwd, options.review);
    const format = writeReviewFile(file, { env: config.name, createdAt: now().toISOString(), attributions: chain.attributions, rows: rows.map(({ formatted: _f, moved_m: _m, ...row }) => row) });
    result.review = { file, format };
  }
  return result;
}

function crossBatchSamePoints(rows: GeocodeRow[]): void {
  const byPoint = new Map<string, GeocodeRow[]>();
  for (const r of rows) {
    if (r.latitude === null || r.longitude === null) continue;
    const key = `${r.latitude.toFixed(6)},${r.longitude.toFixed(6)}`;
    byPoint.set(key, [...(byPoint.get(key) ?? []), r]);
  }
  for (const group of byPoint.values()) {
    for (const r of group) {
      for (const o of group) {
        if (o === r || o.address_sent.toLowerCase() === r.address_sent.toLowerCase()) continue;
        const flag = `same-point:${o.slug}`;
        if (!r.flags.includes(flag) && r.flags.filter((f) => f.startsWith('same-point:')).length < 3) r.flags.push(flag);
      }
    }
  }
}

