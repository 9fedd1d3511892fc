/** "1 warning", "2 warnings", "0 warnings" — counts in every summary read as English, never "warning(s)". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
