/**
 * Issue 16, item 3 — modules for optional features load when configured or first used: importing
 * the server (what `routergpt serve` loads) brings in neither ioredis (rate limits in Redis) nor
 * chrono-node (the chat's date parser), and the parser is loaded by the first message that needs
 * it. Checked in a fresh process against dist/ (the CommonJS module cache names what was loaded).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function loadedAfter(script: string): string[] {
  const code = `import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(`${ROOT}/`)});
    ${script}
    const names = Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => k.split('/node_modules/').at(-1).split('/')[0]);
    console.log(JSON.stringify([...new Set(names)]));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as string[];
}

describe('issue 16: optional modules are loaded only when used', () => {
  it('the server loads without ioredis or chrono-node; the first date parsed loads chrono-node', () => {
    expect(existsSync(path.join(ROOT, 'dist/server/main.js')), 'dist/ is missing: run `npm run build`').toBe(true);
    const atStart = loadedAfter(`await import(${JSON.stringify(`${ROOT}/dist/server/main.js`)});`);
    expect(atStart).toContain('pg'); // the detection sees CommonJS packages that were loaded
    expect(atStart).not.toContain('ioredis');
    expect(atStart).not.toContain('chrono-node');
    const afterParse = loadedAfter(`const { parseWhen } = await import(${JSON.stringify(`${ROOT}/dist/server/chat/understand.js`)});
      if (!parseWhen('Friday at 11am', new Date('2030-03-04T17:00:00Z'), 'America/Phoenix')) throw new Error('no date parsed');`);
    expect(afterParse).toContain('chrono-node');
  });

  it('the chat loads chrono-node\'s English locale alone, which answers as the whole package does', () => {
    const files = loadedFiles(`const { parseWhen } = await import(${JSON.stringify(`${ROOT}/dist/server/chat/understand.js`)});
      parseWhen('Friday at 11am', new Date('2030-03-04T17:00:00Z'), 'America/Phoenix');`).filter((f) => f.includes('/chrono-node/'));
    expect(files.some((f) => f.includes('/locales/en/'))).toBe(true);
    expect(files.filter((f) => /\/locales\/(?!en\/)/.test(f))).toEqual([]); // no other locale (the package's index loads 14)
    // The package's own parse() is its English casual parser: the same answers, message by message.
    const compare = `const all = require('chrono-node'); const en = require('chrono-node/en');
      const now = new Date('2030-03-04T17:00:00Z');
      const messages = ['tomorrow at 3pm', 'next friday 10:30', '12/15 at noon', 'in two hours', 'Saturday morning', 'dec 24 5pm', 'this afternoon', 'the 20th at 9am', '2030-03-20 14:00', 'tonight at 7', 'half past four tomorrow', 'no date here'];
      const differ = messages.filter((m) => JSON.stringify(all.parse(m, { instant: now, timezone: -420 }, { forwardDate: true })) !== JSON.stringify(en.parse(m, { instant: now, timezone: -420 }, { forwardDate: true })));`;
    expect(loadedAfter(`${compare} if (differ.length) throw new Error('differ: ' + differ.join(', '));`)).toContain('chrono-node');
  });
});

function loadedFiles(script: string): string[] {
  const code = `import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(`${ROOT}/`)});
    ${script}
    console.log(JSON.stringify(Object.keys(require.cache)));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as string[];
}
