import type { IO } from '../io.js';

export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and notes go to stderr so stdout stays parseable (STYLE.md §10). */
export function note(io: IO, text: string): void {
  io.stderr.write(`${text}\n`);
}

/** The terminal's width when stdout is one, else the width reports are laid out for. */
export const outputColumns = (io: IO) => (io.stdoutIsTTY && process.stdout.columns ? process.stdout.columns : 100);

/**
 * Column widths (padding included) that fit `width` with the table's borders: columns keep
 * their natural width while they fit; otherwise the widest are capped at one level (water
 * filling), never below `min`, and their cells wrap.
 */
export function fitColumns(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>, width: number, options: { min?: number; wrap?: readonly number[] } = {}): number[] {
  const longest = (i: number, split: RegExp) => Math.max(head[i]!.length, ...rows.map((r) => Math.max(0, ...(r[i] ?? '').split(split).map((l) => l.length)))) + 2;
  const natural = head.map((_, i) => longest(i, /\n/));
  // A column never gets narrower than its longest word: ids and names are never cut.
  const floor = head.map((_, i) => Math.max(options.min ?? 8, longest(i, /\s+/)));
  // Only these columns shrink; by default every column may.
  const wraps = (i: number) => !options.wrap || options.wrap.includes(i);
  const room = width - (head.length + 1) - natural.reduce((sum, w, i) => sum + (wraps(i) ? 0 : w), 0);
  const at = (cap: number) => natural.map((w, i) => (wraps(i) ? Math.min(w, Math.max(floor[i]!, cap)) : w));
  const total = (cap: number) => at(cap).reduce((sum, w, i) => sum + (wraps(i) ? w : 0), 0);
  if (total(Infinity) <= room) return natural;
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const cap = Math.ceil((lo + hi) / 2);
    if (total(cap) <= room) lo = cap;
    else hi = cap - 1;
  }
  return at(lo);
}

export interface TableLayout {
  /** Fit the table in this many columns, wrapping cells (default: as wide as the content). */
  columns?: number;
  /** One line per row, no rule between rows. */
  compact?: boolean;
  /** The columns that wrap to fit (default: all); the others keep their width. */
  wrap?: readonly number[];
}

export async function printTable(io: IO, head: string[], rows: Array<Array<string | number>>, layout: TableLayout = {}): Promise<void> {
  const { default: Table } = await import('cli-table3');
  const cells = rows.map((r) => r.map(String));
  const table = new Table({
    head,
    ...(layout.columns ? { colWidths: fitColumns(head, cells, layout.columns, layout.wrap ? { wrap: layout.wrap } : {}), wordWrap: true, wrapOnWordBoundary: true } : {}),
    ...(layout.compact ? { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } } : {}),
    style: { head: io.color ? ['cyan'] : [], border: io.color ? ['grey'] : [] },
  });
  for (const row of cells) table.push(row);
  io.stdout.write(`${table.toString()}\n`);
}
