// npm run bench: every benchmark in bench/, each reporting medians and a ratio against a
// baseline measured in the same run. `npm run bench -- cli-startup` runs one.
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.mjs$/, ''))
  .filter((n) => only.length === 0 || only.includes(n));

let missed = 0;
// A benchmark awaiting something that can no longer happen would let Node exit silently with 0.
process.on('exit', (code) => {
  if (code === 0 && !finished) {
    console.error('bench: exited before every benchmark finished (a promise never settled)');
    process.exitCode = 1;
  }
});
let finished = false;
for (const name of names) {
  const mod = await import(path.join(dir, `${name}.mjs`));
  if (typeof mod.run !== 'function') continue;
  const result = await mod.run();
  console.log(`\n${result.name}: ${result.target}${result.runs ? ` (${result.runs} runs)` : ''} → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
  if (!result.pass) missed += 1;
}
finished = true;
console.log(`\n${names.length} benchmark(s), ${missed} missed their target. Machines are shared and noisy: compare ratios, not absolute times.`);
