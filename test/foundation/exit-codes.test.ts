import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { leafCommands } from '../../src/cli/command-docs.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/pg-cluster.js';

/**
 * docs/exit-codes.md, command by command: every leaf command of the tree has a row, and each row
 * runs the real CLI into the failures it documents — a usage error (2) for every command, the
 * embedded database held by another live process (4) for those that open it, a failed check or
 * step (1) where one is cheap to provoke. Heavier ones are in their own tests (130: serve-sigint,
 * second-ctrl-c, deploy-real-pg; 3: lint, verify-cli, approvals; 1 for a failed deploy:
 * rollback-safety). A command added without a row fails the first test.
 */
type Where = 'fresh' | 'locked';
interface Case {
  args: string[];
  code: 0 | 1 | 2 | 3 | 4;
  says: string;
  /** fresh: an empty directory (the embedded database not yet created); locked: its lock file held by a live process. */
  where?: Where;
  env?: Record<string, string>;
}

const CLOSED = `http://127.0.0.1:${await freePort()}`; // a free port: nothing listens there
const HELD = 'is held by pid';
const BEHIND = "it is behind this release's migrations";

const TABLE: Record<string, Case[]> = {
  'routergpt deploy': [
    { args: ['deploy', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
    { args: ['deploy', '--checklist', '/nonexistent.yaml', '--yes'], code: 2, says: 'Checklist not found' },
    { args: ['deploy', '--resume', 'no-such-run', '--yes'], code: 2, says: 'is not a run id' },
    { args: ['deploy'], code: 2, says: 'there is no terminal to ask on' },
    { args: ['deploy', '--yes'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt rollback': [
    { args: ['rollback', '--tier', 'bogus'], code: 2, says: 'Unknown rollback tier "bogus"' },
    { args: ['rollback', '--run', 'no-such-run', '--yes'], code: 2, says: 'is not a run id' },
    { args: ['rollback', '--yes'], code: 1, says: 'FAILED' },
    { args: ['rollback', '--yes', '--tier', 'restore'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt watch': [
    { args: ['watch', '--for', '7x'], code: 2, says: '--for "7x" is not a duration' },
    { args: ['watch', '--on-fail', 'bogus'], code: 2, says: 'Unknown --on-fail "bogus"' },
    { args: ['watch', '--for', '1s', '--interval', '1s', '--base-url', CLOSED], code: 2, says: BEHIND },
  ],
  'routergpt status': [
    { args: ['status', '--limit', 'abc'], code: 2, says: '--limit expects a whole number' },
    { args: ['status', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
  ],
  'routergpt approve': [
    { args: ['approve', 'no-such-run'], code: 2, says: 'is not a run id' },
    { args: ['approve', '20261125T184500Z-deploy-ab12'], code: 2, says: 'Unknown run id "20261125T184500Z-deploy-ab12"' },
  ],
  'routergpt maintain daily': [
    { args: ['maintain', 'daily', '--reporter', 'bogus'], code: 2, says: 'Unknown reporter "bogus"' },
    { args: ['maintain', 'daily', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
    { args: ['maintain', 'daily'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt maintain weekly': [{ args: ['maintain', 'weekly', '--checklist', '/nonexistent.yaml'], code: 2, says: 'Checklist not found' }],
  'routergpt maintain monthly': [{ args: ['maintain', 'monthly'], code: 2, says: 'has no monthly maintenance items' }],
  'routergpt maintain schedule': [{ args: ['maintain', 'schedule', '--cron', '--systemd'], code: 2, says: '--cron and --systemd are two formats' }],
  'routergpt checklist show': [{ args: ['checklist', 'show', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' }],
  'routergpt checklist render': [{ args: ['checklist', 'render', '--run', 'no-such-run'], code: 2, says: 'is not a run id' }],
  'routergpt verify': [
    { args: ['verify', '--only', 'no.such-check'], code: 2, says: 'Unknown check id or tag: no.such-check' },
    { args: ['verify', '--base-url', 'ftp://example.com'], code: 2, says: '--base-url must be an http(s) URL' },
    { args: ['verify', '--base-url', CLOSED, '--only', 'api'], code: 1, says: 'FAIL' },
  ],
  'routergpt smoke': [
    { args: ['smoke', '--base-url', 'not-a-url'], code: 2, says: '--base-url must be an http(s) URL' },
    { args: ['smoke', '--base-url', CLOSED], code: 1, says: 'FAIL' },
  ],
  'routergpt analytics': [
    { args: ['analytics', '--since', '7x'], code: 2, says: '--since "7x" is not a duration or a date' },
    { args: ['analytics'], code: 2, says: BEHIND },
    { args: ['analytics'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt metrics': [
    { args: ['metrics', '--since', '7x'], code: 2, says: '--since "7x" is not a duration or a date' },
    { args: ['metrics', '--metric', 'bogus'], code: 2, says: 'Unknown metric "bogus"' },
    { args: ['metrics'], code: 2, says: BEHIND },
    { args: ['metrics'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt report': [
    { args: ['report'], code: 2, says: 'Say where the report goes' },
    { args: ['report', '--html', '/nonexistent-dir/x.html'], code: 2, says: 'the directory /nonexistent-dir does not exist' },
  ],
  'routergpt serve': [
    { args: ['serve', '--port', '99999'], code: 2, says: '--port expects a number from 0 to 65535' },
    { args: ['serve', '--port', '0'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt router enable': [{ args: ['router', 'enable', '--yes', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' }],
  'routergpt router disable': [
    { args: ['router', 'disable', '--yes', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
    { args: ['router', 'disable', '--yes'], code: 2, says: BEHIND },
  ],
  'routergpt router status': [
    { args: ['router', 'status'], code: 2, says: BEHIND },
    { args: ['router', 'status'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt openapi build': [{ args: ['openapi', 'build', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' }],
  'routergpt openapi validate': [{ args: ['openapi', 'validate', '/nonexistent.json'], code: 2, says: 'No such file: /nonexistent.json' }],
  'routergpt migrate status': [
    { args: ['migrate', 'status', '--env', 'prod'], code: 2, says: 'DATABASE_URL is not set' },
    { args: ['migrate', 'status', '--exit-code'], code: 1, says: 'pending' },
    { args: ['migrate', 'status'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt migrate up': [
    { args: ['migrate', 'up', '--to', '999'], code: 2, says: 'There is no migration 999' },
    { args: ['migrate', 'up', '--lock-wait', '1s'], code: 4, says: 'which is not serving it (waited 1s)', where: 'locked' },
  ],
  'routergpt migrate baseline': [{ args: ['migrate', 'baseline', '--to', '042', '--yes'], code: 2, says: 'There is no migration 042' }],
  'routergpt migrate repair': [{ args: ['migrate', 'repair', '--version', '999', '--yes'], code: 2, says: 'There is no migration 999' }],
  'routergpt migrate plan': [{ args: ['migrate', 'plan', '--to', '999'], code: 2, says: 'There is no migration 999' }],
  'routergpt migrate down': [{ args: ['migrate', 'down', '--to', '998', '--yes'], code: 2, says: 'There is no migration 998' }],
  'routergpt migrate lint': [{ args: ['migrate', 'lint', '--reporter', 'bogus'], code: 2, says: 'Unknown reporter "bogus"' }],
  'routergpt migrate hash': [{ args: ['migrate', 'hash', '--schema-from', 'not-a-url'], code: 2, says: '--schema-from expects the URL of a throwaway PostgreSQL server' }],
  'routergpt db psql': [{ args: ['db', 'psql', '--env', 'prod'], code: 2, says: 'DATABASE_URL is not set' }],
  'routergpt db ping': [
    { args: ['db', 'ping', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
    { args: ['db', 'ping'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt db seed': [
    { args: ['db', 'seed'], code: 2, says: 'Say what to seed' },
    { args: ['db', 'seed', '--demo'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt backup': [
    { args: ['backup', '--verify', '/nonexistent.dump'], code: 2, says: 'Backup /nonexistent.dump does not exist' },
    { args: ['backup'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt privacy export': [
    { args: ['privacy', 'export'], code: 2, says: 'needs the person: --session ID, --booking ID or --customer TEXT' },
    { args: ['privacy', 'export', '--session', 'abc'], code: 2, says: '--session "abc" is not a session id' },
    { args: ['privacy', 'export', '--customer', 'Jane Doe'], code: 2, says: "it is behind this release's migrations (013)" },
  ],
  'routergpt privacy erase': [
    { args: ['privacy', 'erase', '--customer', 'Jane Doe', '--booking', '3f2b9c1e-0000-4000-8000-000000000000'], code: 2, says: 'Give one of --session, --booking and --customer' },
    { args: ['privacy', 'erase', '--customer', 'Jane Doe', '--yes'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt privacy log': [
    { args: ['privacy', 'log', '--booking', 'twelve'], code: 2, says: '--booking "twelve" is not a booking id' },
  ],
  'routergpt geocode': [
    { args: ['geocode', '--dry-run', '--provider', 'bogus'], code: 2, says: 'Unknown geocoding provider "bogus"' },
    { args: ['geocode', '--review', 'review.csv'], code: 2, says: 'Add --dry-run' },
    { args: ['geocode'], code: 2, says: 'there is no terminal to ask on' },
    { args: ['geocode', '--yes'], code: 4, says: HELD, where: 'locked' },
  ],
  'routergpt init': [{ args: ['init', '--bogus'], code: 2, says: "unknown option '--bogus'" }],
  'routergpt config show': [
    { args: ['config', 'show', '--env', 'nope'], code: 2, says: 'Unknown environment "nope"' },
    { args: ['config', 'show', '--env', 'prod', '--check'], code: 2, says: 'DATABASE_URL' },
  ],
  'routergpt completion': [{ args: ['completion', 'tcsh'], code: 2, says: 'Unknown shell "tcsh"' }],
};

function workspace(where: Where): string {
  const dir = tempDir('routergpt-exit-');
  if (where === 'locked') {
    // Held by this test process: alive, and not serving the database.
    mkdirSync(path.join(dir, '.routergpt', 'local'), { recursive: true });
    writeFileSync(path.join(dir, '.routergpt', 'local', 'routergpt.lock'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), command: 'routergpt deploy' }));
  }
  return dir;
}

describe('every command exits with the codes docs/exit-codes.md gives it', () => {
  const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: REPO_ROOT });
  const leaves = leafCommands(program).map((c) => c.name);

  it('has a row for every command of the tree, each with a usage error, each code a documented one', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...leaves].sort());
    const documented = new Set<number>(Object.values(ExitCode));
    for (const [name, cases] of Object.entries(TABLE)) {
      expect(cases.some((c) => c.code === ExitCode.usage), `${name} has no usage-error case`).toBe(true);
      for (const c of cases) expect(documented.has(c.code), `${name}: ${c.code}`).toBe(true);
    }
  });

  for (const [name, cases] of Object.entries(TABLE)) {
    describe(name, () => {
      for (const c of cases) {
        it(`${c.args.join(' ')}${c.where === 'locked' ? ' (database held)' : ''} → ${c.code}`, async () => {
          const result = await runCli(c.args, { cwd: workspace(c.where ?? 'fresh'), env: c.env });
          expect(result.exitCode, result.stderr).toBe(c.code);
          expect(result.stderr + result.stdout).toContain(c.says);
          // One short message, never a stack trace; a usage error names the fix (a `→` line, or
          // "use …" in the message itself, as the duration and config errors do).
          expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
          if (c.code === ExitCode.usage && !c.says.startsWith('unknown option')) expect(result.stderr).toMatch(/→|: use |Set DATABASE_URL|--check/);
        }, 120_000);
      }
    });
  }
});
