import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import type { IO } from '../../cli/io.js';
import { printJson } from '../../cli/render/output.js';
import type { EraseResult, ErasePlan } from './run-privacy.js';

interface SelectorFlags {
  session?: string;
  booking?: string;
  customer?: string;
}

function selectorOptions(command: Command): Command {
  return command
    .option('--session <id>', 'the person of this chat session (and the bookings made in it)')
    .option('--booking <id>', 'the person of this booking (its chat session, and that session\'s other bookings)')
    .option('--customer <text>', 'the person whose bookings are under this name (exact, ignoring case); several unlinked matches are refused, listing their ids');
}

const DOCS = 'Docs: docs/privacy.md';

function shortList(ids: readonly string[], max = 10): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} … (${ids.length - max} more; --json lists all)`;
}

function renderPlan(plan: ErasePlan, dryRun: boolean): string[] {
  const lines = [dryRun ? `Dry run — would erase the data of one person on ${plan.env} (nothing was changed):` : `Erased the data of one person on ${plan.env}:`];
  for (const [table, c] of Object.entries(plan.tables)) lines.push(`  ${table.padEnd(26)} ${String(c.rows).padStart(6)} ${c.action}`);
  lines.push(`  sessions: ${shortList(plan.ids.chat_sessions) || 'none'}`, `  bookings: ${shortList(plan.ids.bookings) || 'none'}`);
  if (plan.ids.router_analytics.length) lines.push(`  router_analytics ids: ${shortList(plan.ids.router_analytics)}`);
  if (plan.ids.router_analytics_archive.length) lines.push(`  router_analytics_archive ids: ${shortList(plan.ids.router_analytics_archive)}`);
  const o = plan.outside;
  lines.push(`Outside the tables: ${o.journalFiles} run journal(s), ${o.purgeRecords} purge record(s), ${o.keptWrites} kept-writes export(s), ${o.otherFiles} other run file(s)${dryRun ? ' would be scrubbed, and the routergpt.runs rows that mention the person' : ''}`);
  return lines;
}

function renderBackups(plan: ErasePlan): string[] {
  const b = plan.backups;
  if (b.holding.length === 0) return [`Backups: none of the backups in ${b.dir} holds this person's data.`];
  const days = (n: number | null) => (n === null ? '' : ` (within ${n} day(s) at the latest, with a backup every backup.age max_age)`);
  return [
    `Backups still holding this person's data (${b.holding.length}; they are not changed — a restore of one re-applies this erasure):`,
    ...b.holding.map((h) => `  ${h.file} (taken ${h.createdAt.slice(0, 16).replace('T', ' ')}${h.by === 'time' ? ', judged by time: no write ledger' : ''}) — deleted by retention (backup.retention ${b.retention}) after ${h.backupsUntilDeleted} more backup(s)${days(h.daysUntilDeletedAtMost)}`),
    '  Off-host copies (backup.copy_command) follow the retention of wherever they are kept.',
  ];
}

export function registerPrivacy(program: Command, io: IO): void {
  const privacy = program.command('privacy').description("GDPR requests: export or erase everything held about one person (audited; the erasure survives restores)");

  selectorOptions(privacy.command('export').description('write everything held about one person as JSON (routergpt.privacy-export/v1), to stdout or --output FILE'))
    .option('-o, --output <file>', 'write the export to FILE (created owner-only, 0600; an existing file is refused)')
    .addHelpText('after', `\nExit codes: 0 exported, 1 nobody matches, 2 usage: no selector, a bad id, several people match (their ids are listed), --output exists.\n${DOCS}`)
    .action(
      action<SelectorFlags & { output?: string }>(io, async (ctx, opts) => {
        const { parseSelector } = await import('../../db/privacy/subject.js');
        const selector = parseSelector(opts, 'export');
        const { checkOutputFile, runPrivacyExport } = await import('./run-privacy.js');
        if (opts.output !== undefined) checkOutputFile(opts.output, ctx.io.cwd);
        const { config } = await ctx.loadConfig();
        const result = await runPrivacyExport({ config, io: ctx.io, cwd: ctx.io.cwd, selector, ...(opts.output !== undefined ? { output: opts.output } : {}), ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}) });
        if (!result.file) return printJson(ctx.io, result.document);
        const counts = Object.entries(result.document.tables).map(([t, rows]) => `${t}: ${rows.length}`).join(', ');
        if (ctx.globals.json) return printJson(ctx.io, { file: result.file, audit: result.auditId, tables: Object.fromEntries(Object.entries(result.document.tables).map(([t, rows]) => [t, rows.length])) });
        ctx.io.stdout.write(`Exported to ${result.file} (0600): ${counts}\nAudit record: ${result.auditId} (routergpt.privacy_audit; counts and a keyed hash of the request, no personal data)\n`);
      }),
    );

  selectorOptions(privacy.command('erase').description("remove or anonymise everything held about one person, in one transaction (journaled, audited, re-applied after every restore)"))
    .option('--dry-run', 'show what would go (counts and ids per table, files, backups) and change nothing')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal; typed in protected environments otherwise)')
    .option('--checklist <file>', "read backup.age's max_age (days until retention) from this checklist instead of checklists/<env>.yaml")
    .addHelpText(
      'after',
      `\nDeleted: chat messages, feedback. Anonymised: the chat sessions (kept, anonymised_at set), the bookings (kept for the\nshop's schedule, customer name removed), analytics events (unlinked, payload cut to what is not personal), refusal\ncounts (re-keyed to the overflow client). Also scrubbed: run journals, routergpt.runs, purge records, kept-writes exports.\nExit codes: 0 erased (or the dry run), 1 nobody matches or the erasure failed (nothing changed), 2 usage: no selector, a\nbad id, several people match (their ids are listed), no terminal without --yes; 4 another run holds the lock; 130 not confirmed.\n${DOCS}`,
    )
    .action(
      action<SelectorFlags & { dryRun?: boolean; yes?: boolean; checklist?: string }>(io, async (ctx, opts) => {
        const { parseSelector } = await import('../../db/privacy/subject.js');
        const selector = parseSelector(opts, 'erase');
        const { config } = await ctx.loadConfig();
        const { runPrivacyErase } = await import('./run-privacy.js');
        const result: EraseResult = await runPrivacyErase({ config, io: ctx.io, cwd: ctx.io.cwd, selector, dryRun: Boolean(opts.dryRun), yes: Boolean(opts.yes), ...(opts.checklist ? { checklistFile: opts.checklist } : {}), ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        const plan = result.erased ? { ...result.plan, tables: result.erased.tables, outside: result.erased.outside } : result.plan;
        const lines = [...renderPlan(plan, result.dryRun), ...renderBackups(result.plan)];
        if (result.erased) {
          lines.push(
            `  routergpt.runs rows scrubbed: ${result.erased.outside.runRecords}`,
            `Audit record: ${result.erased.auditId} (routergpt.privacy_audit: counts, when, by ${result.erased.by}, a keyed hash of the request — no personal data)`,
            `Ledger: routergpt.erasure_ledger (outside the backups) — re-applied after every restore`,
            `Run: ${result.erased.runId} (\`routergpt status --env ${config.name} --run ${result.erased.runId}\`)`,
          );
        } else lines.push(`Run again without --dry-run to erase (asks for confirmation; --yes without a terminal).`);
        ctx.io.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  selectorOptions(privacy.command('log').description('the audit records of exports and erasures (no personal data); with a selector, those that answer that request'))
    .addHelpText('after', `\nA record holds counts per table, when, by whom and an HMAC of the request: --customer/--session/--booking finds the\nrecords of that request by recomputing it. Exit codes: 0, 2 usage (a bad id).\n${DOCS}`)
    .action(
      action<SelectorFlags>(io, async (ctx, opts) => {
        const { parseSelector } = await import('../../db/privacy/subject.js');
        const selector = opts.session !== undefined || opts.booking !== undefined || opts.customer !== undefined ? parseSelector(opts, 'log') : undefined;
        const { config } = await ctx.loadConfig();
        const { runPrivacyLog } = await import('./run-privacy.js');
        const result = await runPrivacyLog({ config, io: ctx.io, cwd: ctx.io.cwd, ...(selector ? { selector } : {}) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        if (result.records.length === 0) {
          ctx.io.stdout.write(`no privacy requests recorded on ${config.name}${selector ? ' for that request' : ''}\n`);
          return;
        }
        for (const r of result.records) {
          const rows = Object.entries(r.counts).map(([t, c]) => `${t}: ${typeof c === 'number' ? c : (c as { rows: number }).rows}`).join(', ');
          ctx.io.stdout.write(`${r.at.slice(0, 19).replace('T', ' ')}  ${r.action.padEnd(6)} ${r.id}  by ${r.by} (${r.bySource})  --${r.selector}  ${rows}\n`);
        }
      }),
    );
}
