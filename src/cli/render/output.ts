import type { IO } from '../io.js';

export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and notes go to stderr so stdout stays parseable (STYLE.md §10). */
export function note(io: IO, text: string): void {
  io.stderr.write(`${text}\n`);
}

export async function printTable(io: IO, head: string[], rows: Array<Array<string | number>>): Promise<void> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({ head, style: { head: io.color ? ['cyan'] : [], border: io.color ? ['grey'] : [] } });
  for (const row of rows) table.push(row.map(String));
  io.stdout.write(`${table.toString()}\n`);
}
