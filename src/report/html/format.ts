/** Small formatters shared by the report's sections; every one returns markup or plain text. */
import { html, type SafeHtml } from './escape.js';

/**
 * `2026-12-01 16:03:12 UTC` in a `<time>` element carrying the exact instant; `clock` shows only
 * `16:03:12` (tables of one run's items), the full date staying in the element's title.
 */
export function time(iso: string | null | undefined, form: 'full' | 'clock' = 'full'): SafeHtml | string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const full = `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  return form === 'clock' ? html`<time datetime="${d.toISOString()}" title="${full}">${full.slice(11, 19)}</time>` : html`<time datetime="${d.toISOString()}">${full}</time>`;
}

/** 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '—');

/** A coloured word for a state or verdict: its class is the word, so the stylesheet colours it. */
export function badge(word: string, symbol?: string): SafeHtml {
  const tone = TONE[word] ?? 'neutral';
  return html`<span class="badge ${tone}">${symbol ? `${symbol} ` : ''}${word}</span>`;
}

const TONE: Record<string, string> = {
  pass: 'good', done: 'good', succeeded: 'good',
  warn: 'warn', warning: 'warn', inconclusive: 'warn', 'waiting-approval': 'warn', running: 'warn', interrupted: 'warn',
  fail: 'bad', failed: 'bad', error: 'bad', cancelled: 'bad',
  skip: 'neutral', skipped: 'neutral', pending: 'neutral',
};

/** A table; `empty` is said instead when there are no rows. */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<SafeHtml | string | number>>, empty: string, className = ''): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table class="${className}"><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** A sentence with `backticked` commands, as text with <code> spans (each part escaped). */
export function prose(text: string): SafeHtml {
  return html`${text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : part))}`;
}
