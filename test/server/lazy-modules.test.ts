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
});
