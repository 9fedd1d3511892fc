import wrapAnsi from 'wrap-ansi';

/** One line wrapped to `width`, continuation lines indented two more than the first (ANSI-aware). */
export function wrapToWidth(line: string, width: number): string[] {
  const indent = /^ */.exec(line)![0].length;
  const body = line.slice(indent);
  if (indent + body.length <= width) return [line];
  const [first, ...rest] = wrapAnsi(body, width - indent - 2, { hard: true, trim: true }).split('\n');
  return [`${' '.repeat(indent)}${first ?? ''}`, ...rest.map((r) => `${' '.repeat(indent + 2)}${r}`)];
}
