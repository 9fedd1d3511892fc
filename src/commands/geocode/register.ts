import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import type { CommandContext } from '../../cli/context.js';
import { positiveInt } from '../../cli/flags.js';
import type { IO } from '../../cli/io.js';
import { collectReporter, finishRun, verifyReporters } from '../../cli/render/run-result.js';
import { note, outputColumns, printJson, printTable } from '../../cli/render/output.js';
import { ChecksFailedError, ExitCode, UsageError } from '../../errors.js';
import type { GeocodeDryRun, GeocodeRow } from './run-geocode.js';

interface GeocodeFlags {
  dryRun?: boolean;
  provider?: string;
  limit?: string;
  shops?: string;
  refreshExpired?: boolean;
  review?: string;
  apply?: string;
  batch?: string;
  resume?: string | boolean;
  yes?: boolean;
  backup?: boolean;
  strict?: boolean;
  reporter?: string[];
}

function verifyFlags(opts: GeocodeFlags): void {
  if (opts.review && !opts.dryRun) throw new UsageError('--review FILE writes the dry run\'s proposals for a person to check.', 'Add --dry-run: `routergpt geocode --dry-run --review review.csv`, then `routergpt geocode --apply review.csv`.');
  if (opts.review && opts.apply) throw new UsageError('--review writes a review file and --apply applies one: not both.', 'Review first (`--dry-run --review FILE`), then apply (`--apply FILE`).');
  if (opts.apply && (opts.provider || opts.limit || opts.shops || opts.refreshExpired)) throw new UsageError('--apply FILE writes exactly the reviewed rows: --provider, --limit, --shops and --refresh-expired choose what a new dry run asks.', 'Drop them, or write a new review with them: `routergpt geocode --dry-run --review FILE …`.');
  if (opts.dryRun && opts.resume !== undefined) throw new UsageError('--resume continues a real run; a dry run has nothing to resume.', 'Drop --dry-run, or --resume.');
  if (opts.shops !== undefined && opts.refreshExpired) throw new UsageError('--shops names the shops; --refresh-expired selects by expiry: not both.', 'Use one of them.');
}

function rowCells(r: GeocodeRow): string[] {
  return [
    r.slug,
    r.address_sent || '(no address)',
    r.latitude === null ? '—' : `${r.latitude}, ${r.longitude}`,
    r.accuracy ?? '—',
    r.moved_m === undefined ? '' : `${r.moved_m} m`,
    r.provider,
    r.flags.length ? `⚠ ${r.flags.join(', ')}` : '',
  ];
}

async function printDryRun(ctx: CommandContext, result: GeocodeDryRun): Promise<void> {
  const { io } = ctx;
  if (ctx.globals.json) {
    printJson(io, result);
    return;
  }
  if (result.rows.length === 0) note(io, 'no shops to geocode (every shop has coordinates; --shops or --refresh-expired choose others)');
  else await printTable(io, ['slug', 'address sent', 'proposed', 'accuracy', 'moved', 'provider', 'flags'], result.rows.map(rowCells), { columns: outputColumns(io), wrap: [1, 6] });
  const lines: string[] = [];
  if (result.apply) lines.push(`Would apply ${result.apply.rows} reviewed row(s) of ${result.apply.file}${result.apply.empty ? ` (${result.apply.empty} without coordinates left alone)` : ''}: checked against the shops, nothing was written.`);
  else {
    lines.push(`${result.rows.length} shop(s): ${result.rows.length - result.unresolved} resolved, ${result.unresolved} unresolved, ${result.flagged} flagged for review; ${result.calls} provider call(s), ${result.cacheHits} from the cache (${result.providers}).`);
    lines.push('Dry run: nothing was written to shops (the answers are cached, so the real run and --apply reuse them).');
  }
  for (const a of result.attributions) lines.push(`Geocoding data ${a}`);
  if (result.review) lines.push(`Review file: ${result.review.file} (${result.review.format}) — check it, then \`routergpt geocode --apply ${result.review.file}\`.`);
  io.stdout.write(`${lines.join('\n')}\n`);
}

export function registerGeocode(program: Command, io: IO): void {
  program
    .command('geocode')
    .description("give shops coordinates (the checklist's \"Geocode existing shops\"): --dry-run proposes and flags, --review FILE writes them for a person, --apply FILE writes exactly those; a real run is journaled, in checkpointed batches, after a verified backup")
    .option('--dry-run', 'ask the provider (through the cache) and print the proposals with their flags; takes no lock and writes nothing to shops')
    .option('--provider <name>', 'google | nominatim | offline, or a comma-separated chain (default: geocoding.provider)')
    .option('--limit <n>', 'at most N shops')
    .option('--shops <slugs>', 'these shops (comma-separated slugs), whether or not they have coordinates')
    .option('--refresh-expired', 'also the shops whose coordinates lapsed under their provider\'s terms (geocode_expires_at)')
    .option('--review <file>', 'with --dry-run: write the proposals to FILE (.csv or .json) for review')
    .option('--apply <file>', 'write exactly the rows of a reviewed FILE (refused when a shop changed since)')
    .option('--batch <n>', 'shops per batch, each its own transaction and checkpoint (default 100)')
    .option('--resume [run]', 'continue an unfinished geocode run (the latest, or RUN); answers already cached are not asked again')
    .option('-y, --yes', 'confirm without a prompt (needed without a terminal)')
    .option('--no-backup', 'skip the verified backup before writing (refused on protected environments)')
    .option('--strict', 'exit 3 when shops were unresolved or flagged')
    .option('--reporter <name[=file]>', 'human | json | junit | github | markdown | html, to stdout or FILE (repeatable; --json is --reporter json)', collectReporter)
    .addHelpText(
      'after',
      '\nExit codes: 0 done (unresolved or flagged shops allowed unless --strict), 1 a provider refused or failed (nothing of its batch\nwritten), 2 usage/config: unknown provider, missing key or contact e-mail, an invalid or stale review file, a shop with no\naddress (nothing written), 3 unresolved or flagged shops with --strict, 4 another run holds the lock, 130 cancelled.\nDocs: docs/geocoding.md',
    )
    .action(
      action<GeocodeFlags>(io, async (ctx, opts) => {
        verifyFlags(opts);
        await verifyReporters(ctx, opts.reporter);
        const limit = opts.limit === undefined ? undefined : positiveInt('--limit', opts.limit, 1);
        const batch = opts.batch === undefined ? undefined : positiveInt('--batch', opts.batch, 100);
        const shops = opts.shops === undefined ? undefined : opts.shops.split(',').map((s) => s.trim()).filter(Boolean);
        if (shops && shops.length === 0) throw new UsageError('--shops names no shop.', 'Give comma-separated slugs: --shops main-street-barbers,elm-cuts.');
        const { config } = await ctx.loadConfig();
        const { runGeocode } = await import('./run-geocode.js');
        const result = await runGeocode({
          config,
          io: ctx.io,
          cwd: ctx.io.cwd,
          dryRun: Boolean(opts.dryRun),
          ...(opts.provider !== undefined ? { provider: opts.provider } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(shops ? { shops } : {}),
          ...(opts.refreshExpired ? { refreshExpired: true } : {}),
          ...(opts.review ? { review: opts.review } : {}),
          ...(opts.apply ? { apply: opts.apply } : {}),
          ...(batch !== undefined ? { batch } : {}),
          ...(opts.resume !== undefined && opts.resume !== false ? { resume: opts.resume === true ? true : opts.resume } : {}),
          yes: Boolean(opts.yes),
          noBackup: opts.backup === false,
          ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}),
        });
        if (result.kind === 'dry-run') {
          await printDryRun(ctx, result);
          if (opts.strict && (result.unresolved || result.flagged)) {
            ctx.io.stderr.write(`routergpt: geocode dry run: ${result.unresolved} unresolved, ${result.flagged} flagged; --strict makes that exit 3\n`);
            throw new ChecksFailedError('geocode has warnings', ExitCode.strictWarnings);
          }
          return;
        }
        const item = result.run.items.find((i) => i.id === 'db.geocode-shops');
        const outputs = item?.outputs ?? {};
        const unresolved = (outputs.unresolved ?? []) as Array<{ slug: string; address?: string; reason?: string }>;
        const flagged = (outputs.flagged ?? []) as Array<{ slug: string; flags: string[] }>;
        if (!ctx.globals.json && (unresolved.length || flagged.length)) {
          // Listed at the end, where a person looks (the run's report has them as the item's details).
          const lines = [
            ...(unresolved.length ? [`Unresolved (${unresolved.length}) — no coordinates written:`, ...unresolved.slice(0, 50).map((u) => `  ${u.slug}${u.address ? ` (${u.address})` : ''}${u.reason ? `: ${u.reason}` : ''}`)] : []),
            ...(flagged.length ? [`Flagged for review (${flagged.length}) — written, check them:`, ...flagged.slice(0, 50).map((f) => `  ${f.slug}: ${f.flags.join(', ')}`)] : []),
            '→ Check them with `routergpt geocode --dry-run --shops SLUG,… --review review.csv`, then `routergpt geocode --apply review.csv`.',
          ];
          ctx.io.stderr.write(`${lines.join('\n')}\n`);
        }
        await finishRun(ctx, result, 'geocode', [], opts.reporter, Boolean(opts.strict));
      }),
    );
}
