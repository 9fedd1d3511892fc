import type { Command } from 'commander';
import { ChecksFailedError, UsageError } from '../../errors.js';
import { ExitCode } from '../../cli/exit-codes.js';
import type { IO } from '../../cli/io.js';
import { action, type Action } from '../../cli/action.js';
import { positiveInt } from '../../cli/flags.js';
import { note } from '../../cli/render/output.js';
import { parseDuration } from '../../config/duration.js';

interface VerifyFlags {
  stage?: string;
  only?: string[];
  skip?: string[];
  reporter?: string[];
  output?: string;
  strict?: boolean;
  baseUrl?: string;
  concurrency?: string;
  timeout?: string;
  list?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** --base-url is an absolute http(s) URL: anything else is a usage error, not a failed api.health. */
function checkBaseUrl(value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new UsageError(`--base-url must be an http(s) URL (got "${value}").`, 'Use e.g. --base-url https://api.example.com or http://127.0.0.1:3000.');
  }
}

function runAction(command: 'verify' | 'smoke'): Action<VerifyFlags> {
  return async (ctx, opts) => {
    const stage = (opts.stage ?? 'all') as 'pre' | 'post' | 'all';
    if (!['pre', 'post', 'all'].includes(stage)) throw new UsageError(`--stage must be pre, post or all (got "${opts.stage}").`, 'Use --stage pre before a deploy, --stage post after.');
    const timeoutMs = parseDuration(opts.timeout ?? '20s', '--timeout');
    const concurrency = positiveInt('--concurrency', opts.concurrency, 4);
    const { parseReporters, emitReports } = await import('../../report/emit.js');
    const reporters = parseReporters(opts.reporter, opts.output, Boolean(ctx.globals.json));
    if (opts.baseUrl !== undefined) checkBaseUrl(opts.baseUrl);
    const smokeWithUrl = command === 'smoke' && Boolean(opts.baseUrl);
    if (opts.list) {
      const { CHECKS, tagsOf } = await import('../../checks/registry.js');
      const { printTable } = await import('../../cli/render/output.js');
      await printTable(ctx.io, ['id', 'title', 'needs', 'tags'], CHECKS.map((c) => [c.id, c.title, c.needs.join(', ') || '—', tagsOf(c).join(', ')]));
      return;
    }
    const { config } = await ctx.loadConfig({ requireDatabase: !smokeWithUrl });
    const { selectChecks } = await import('./select.js');
    const selection = selectChecks({ command, stage, only: opts.only, skip: opts.skip, env: config.name });
    if (selection.unknown.length > 0) throw new UsageError(`Unknown check id or tag: ${selection.unknown.join(', ')}.`, 'Run `routergpt verify --list` to see them (docs/checks.md).');
    // Neither --base-url nor PUBLIC_API_BASE: follow a running `routergpt serve` (its port may not be the default).
    let baseUrl = opts.baseUrl;
    if (baseUrl === undefined && config.publicApiBase.source === 'default') {
      const { readLiveServeRecord } = await import('../../server/serve-record.js');
      const serving = readLiveServeRecord(config);
      if (serving) {
        baseUrl = serving.url;
        note(ctx.io, `(checking the API that \`routergpt serve\` (pid ${serving.pid}) runs at ${serving.url})`);
      }
    }
    const { runVerify } = await import('../../checks/run-verify.js');
    const showProgress = reporters.some((r) => r.name === 'human');
    const progress = showProgress ? await (await import('../../report/human.js')).createHumanProgress(ctx.io, selection.checks, true) : undefined;
    const report = await runVerify({
      config,
      command,
      checks: selection.checks,
      stage,
      baseUrl,
      noDatabase: smokeWithUrl,
      requireDatabase: true,
      cwd: ctx.io.cwd,
      concurrency,
      timeoutMs,
      onStart: progress?.onStart,
      onFinish: progress?.onFinish,
      onWarning: (line) => note(ctx.io, line),
    });
    await progress?.finish();
    const written = await emitReports(ctx.io, report, reporters);
    for (const file of written) note(ctx.io, `wrote ${file}`);
    if (report.status === 'fail') throw new ChecksFailedError(`${command} failed`);
    if (report.status === 'warn' && opts.strict) throw new ChecksFailedError(`${command} has warnings`, ExitCode.strictWarnings);
  };
}

function addCommonOptions(command: Command): Command {
  return command
    .option('--only <ids|tags>', 'run only these checks (ids or tags like db, api, pre; comma-separated or repeated)', collect)
    .option('--skip <ids|tags>', 'skip these checks', collect)
    .option('--reporter <name[=file]>', 'human, json, junit, github, markdown (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--output <file>', 'write the (non-human) reporter to this file')
    .option('--strict', 'exit 3 when there are warnings')
    .option('--concurrency <n>', 'checks run at once', '4')
    .option('--timeout <duration>', 'per-check timeout', '20s')
    .option('--list', 'list the checks (id, title, needs, tags) and exit');
}

export function registerVerify(program: Command, io: IO): void {
  addCommonOptions(
    program
      .command('verify')
      .description('run every automated checklist item as a named check (database, API, TLS, OpenAPI, security) and report')
      .option('--stage <stage>', 'pre (before a deploy), post (after) or all', 'all')
      .option('--base-url <url>', 'the API to check (default: the environment\'s PUBLIC_API_BASE)'),
  )
    .addHelpText('after', '\nExit codes: 0 pass (warnings allowed), 1 a check failed or crashed, 2 usage/config, 3 warnings with --strict.\nCheck ids: docs/checks.md')
    .action(action(io, runAction('verify')));

  addCommonOptions(
    program
      .command('smoke')
      .description('the API subset: health, search, delegate, chat, errors (the checklist\'s "Smoke Test Production")')
      .option('--base-url <url>', 'the API to smoke-test (no database needed)'),
  ).action(action(io, runAction('smoke')));
}
