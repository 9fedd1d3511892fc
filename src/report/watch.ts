/**
 * `routergpt watch` rendered: one line per window as it is evaluated (plain lines; the api.watch
 * step's progress), a frame redrawn per interval on a terminal (the live view), and the final
 * report — `human` (a table of routes × metrics, then every verdict that is not a pass with the
 * numbers that decided it), `json` (the WatchReport, `routergpt.watch/v1`) and `markdown`.
 */
import type { Writable } from 'node:stream';
import { Chalk } from 'chalk';
import type { ReporterOption } from './reporter-options.js';
import { wrapToWidth } from './wrap.js';
import { WATCH_ROUTE_METRICS, type WatchReport, type WatchStatus, type WatchVerdict, type WatchWindow } from '../runbook/watch/types.js';

export const WATCH_REPORT_SCHEMA = 'routergpt.watch/v1';
export const WATCH_REPORTERS = ['human', 'json', 'markdown'] as const;
export type WatchReporterName = (typeof WATCH_REPORTERS)[number];
export type WatchReporterSpec = ReporterOption<WatchReporterName>;

const MARK: Record<WatchStatus, string> = { pass: '✔', warn: '⚠', fail: '✖', inconclusive: '?' };
const HEAD: Record<(typeof WATCH_ROUTE_METRICS)[number], string> = { requests: 'requests', error_rate: 'error rate', p50_ms: 'p50', p95_ms: 'p95', rate_429: '429 rate' };

function paint(color: boolean) {
  const c = new Chalk({ level: color ? 1 : 0 });
  return (s: WatchStatus, text: string) => (s === 'pass' ? c.green(text) : s === 'warn' ? c.yellow(text) : s === 'fail' ? c.red(text) : c.gray(text));
}

/** A verdict's value as shown in a cell: "0.50 %", "212 ms", "41", "—". */
export function valueText(v: Pick<WatchVerdict, 'unit' | 'actual'>): string {
  if (v.actual === null) return '—';
  if (v.unit === 'ratio') return `${(v.actual * 100).toFixed(2)} %`;
  if (v.unit === 'ms') return `${v.actual} ms`;
  return String(v.actual);
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

function elapsed(report: WatchReport, window: WatchWindow): string {
  return `${seconds(Date.parse(window.to) - Date.parse(report.startedAt))} of ${seconds(report.forMs)}`;
}

/**
 * The verdicts that are not a pass, one line each: "search p95_ms fail — p95 612 ms … > limit 500 ms".
 * A route with nothing to judge at all (every verdict inconclusive: idle) is one line, not five;
 * so are the inconclusive conversions.
 */
function notPassing(window: WatchWindow, minRequests: number, options: { conversion?: boolean } = {}): Array<{ status: WatchStatus; line: string }> {
  const routes = window.routes.flatMap((r) => {
    if (r.verdicts.every((v) => v.status === 'inconclusive')) return [{ status: 'inconclusive' as const, line: `${r.route} inconclusive — ${r.verdicts[0]!.reason}` }];
    return r.verdicts.filter((v) => v.status !== 'pass').map((v) => ({ status: v.status, line: `${r.route} ${v.metric} ${v.status} — ${v.reason}` }));
  });
  const unsure = window.conversion.filter((v) => v.status === 'inconclusive');
  const conversion = options.conversion === false ? [] : [
    ...window.conversion.filter((v) => v.status !== 'pass' && v.status !== 'inconclusive').map((v) => ({ status: v.status, line: `conversion ${v.metric} ${v.status} — ${v.reason}` })),
    ...(unsure.length ? [{ status: 'inconclusive' as const, line: `conversion ${unsure.map((v) => `${v.metric} (${v.samples})`).join(', ')} inconclusive — too few to judge (< min_requests ${minRequests})` }] : []),
  ];
  return [...(window.health.status !== 'pass' ? [{ status: window.health.status, line: `health ${window.health.status} — ${window.health.reason}` }] : []), ...routes, ...conversion];
}

/** One line for a window (the plain view and the step's progress), failures and warnings after it. */
export function windowLines(report: WatchReport, window: WatchWindow): string[] {
  const total = Math.max(1, Math.ceil(report.forMs / report.intervalMs));
  const busy = window.routes.filter((r) => (r.verdicts.find((v) => v.metric === 'requests')?.actual ?? 0) > 0);
  const routes = busy.map((r) => {
    const get = (m: string) => r.verdicts.find((v) => v.metric === m)!;
    return `${r.route} ${get('requests').actual} req, ${valueText(get('error_rate'))} err, p95 ${valueText(get('p95_ms'))}`;
  });
  const idle = window.routes.length - busy.length;
  const traffic = routes.length ? `${routes.join('; ')}${idle ? ` (${idle === 1 ? 'one route' : `${idle} routes`} without requests)` : ''}` : 'no requests';
  const head = `${MARK[window.status]} window ${window.index}/${total} (${elapsed(report, window)}): ${window.status} — ${traffic}`;
  return [head, ...notPassing(window, report.minRequests).filter((n) => n.status === 'fail' || n.status === 'warn').map((n) => `    ${n.line}`)];
}

function baselineLine(report: WatchReport): string {
  const b = report.baseline;
  if (b.kind === 'none') return `baseline: none — ${b.reason}`;
  return `baseline: ${b.kind === 'previous-release' ? `previous release ${b.release}` : b.kind === 'concurrent' ? `release ${b.release} on the rest of the fleet` : 'one week earlier'} (${b.from} → ${b.to}, ${b.requests} requests) — ${b.reason}`;
}

function headline(report: WatchReport): string {
  return `routergpt watch — ${report.env} (${report.apiBase}) · release ${report.release ?? '(unknown: /health reported no version)'} · for ${seconds(report.forMs)}, every ${seconds(report.intervalMs)}, min_requests ${report.minRequests}`;
}

function verdictWord(report: WatchReport): string {
  const ended = report.completed ? 'after the full watch' : `after window ${report.windows.length} of ${Math.max(1, Math.ceil(report.forMs / report.intervalMs))}`;
  if (report.status === 'fail') return `FAILED ${ended}`;
  const strict = report.strict && report.status !== 'pass' ? ' (exit 3 under --strict)' : '';
  return `${report.status === 'pass' ? 'passed' : report.status === 'warn' ? 'passed with warnings' : 'inconclusive'} ${ended}${strict}`;
}

async function table(report: WatchReport, window: WatchWindow, color: boolean): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const p = paint(color);
  const t = new Table({ head: ['route', ...WATCH_ROUTE_METRICS.map((m) => HEAD[m]), 'verdict'], chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
  for (const r of window.routes) {
    t.push([r.path, ...WATCH_ROUTE_METRICS.map((m) => {
      const v = r.verdicts.find((x) => x.metric === m)!;
      return p(v.status, `${MARK[v.status]} ${valueText(v)}`);
    }), p(r.status, r.status)]);
  }
  const conv = window.conversion.map((v) => p(v.status, `${v.metric.replace(/_/g, ' ')} ${MARK[v.status]} ${valueText(v)}`)).join('  ·  ');
  return `${t.toString()}\nconversion: ${conv}`;
}

/** The live view's frame: the latest window's table, what is not passing, the time left. */
export async function liveFrame(report: WatchReport, window: WatchWindow, options: { color: boolean; columns: number }): Promise<string> {
  const lines = [headline(report), baselineLine(report), `window ${window.index} (${elapsed(report, window)}) · ${window.health.reason}`, await table(report, window, options.color)];
  const p = paint(options.color);
  for (const n of notPassing(window, report.minRequests)) lines.push(...wrapToWidth(p(n.status, `  ${MARK[n.status]} ${n.line}`), options.columns));
  return `${lines.join('\n')}\n`;
}

/**
 * A frame redrawn in place per interval (cursor up over the last frame, clear to the end) — on
 * a terminal only; the plain lines serve everything else.
 */
export function liveView(out: Writable, options: { color: boolean; columns: number }): (window: WatchWindow, report: WatchReport) => Promise<void> {
  let height = 0;
  return async (window, report) => {
    const frame = await liveFrame(report, window, options);
    out.write(`${height ? `\x1b[${height}A\x1b[0J` : ''}${frame}`);
    height = frame.split('\n').length - 1;
  };
}

async function renderHuman(report: WatchReport, options: { color: boolean; columns: number }): Promise<string> {
  const p = paint(options.color);
  const last = report.windows.at(-1);
  const out = [headline(report), ...wrapToWidth(baselineLine(report), options.columns)];
  if (!last) return `${[...out, 'no window was evaluated'].join('\n')}\n`;
  out.push(`window ${last.index}: ${last.from} → ${last.to} · ${last.health.reason}`, await table(report, last, options.color));
  const problems = notPassing(last, report.minRequests);
  if (problems.length) {
    out.push('');
    for (const n of problems) out.push(...wrapToWidth(p(n.status, `${MARK[n.status]} ${n.line}`), options.columns));
  }
  if (report.action) out.push('', ...wrapToWidth(`on fail: ${report.action.reason}`, options.columns));
  if (report.runId) out.push('', ...wrapToWidth(`run ${report.runId}${report.journalFile ? ` (journal: ${report.journalFile})` : ''}`, options.columns));
  out.push('', p(report.status, `${MARK[report.status]} watch ${verdictWord(report)}`));
  return `${out.join('\n')}\n`;
}

function renderMarkdown(report: WatchReport): string {
  const last = report.windows.at(-1);
  const out = [`## routergpt watch — ${report.env}: ${report.status}`, '', `${headline(report).replace(/^routergpt watch — /, '')}`, '', baselineLine(report), ''];
  if (last) {
    out.push(`| route | ${WATCH_ROUTE_METRICS.map((m) => HEAD[m]).join(' | ')} | verdict |`, `|---|${WATCH_ROUTE_METRICS.map(() => '---:').join('|')}|---|`);
    for (const r of last.routes) out.push(`| \`${r.path}\` | ${WATCH_ROUTE_METRICS.map((m) => { const v = r.verdicts.find((x) => x.metric === m)!; return `${MARK[v.status]} ${valueText(v)}`; }).join(' | ')} | ${r.status} |`);
    out.push('', ...last.conversion.map((v) => `- conversion ${v.metric}: ${v.status} — ${v.reason}`));
    const problems = notPassing(last, report.minRequests, { conversion: false });
    if (problems.length) out.push('', ...problems.map((n) => `- ${MARK[n.status]} ${n.line.replace(/\|/g, '\\|')}`));
  }
  if (report.action) out.push('', `On fail: ${report.action.reason}`);
  out.push('', `**Verdict:** ${verdictWord(report)}`);
  return `${out.join('\n')}\n`;
}

export async function renderWatch(report: WatchReport, name: WatchReporterName, options: { color: boolean; columns: number }): Promise<string> {
  if (name === 'json') return `${JSON.stringify({ schema: WATCH_REPORT_SCHEMA, ...report }, null, 2)}\n`;
  if (name === 'markdown') return renderMarkdown(report);
  return renderHuman(report, options);
}
