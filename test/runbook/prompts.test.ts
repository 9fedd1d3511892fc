import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IO } from '../../src/cli/io.js';
import { failureExitCode } from '../../src/cli/render/run-result.js';
import { runDeploy } from '../../src/commands/deploy/run-deploy.js';
import { maskUrl } from '../../src/config/mask.js';
import { loadConfig } from '../../src/config/resolve.js';
import { CancelledError } from '../../src/errors.js';
import type { RunEvent } from '../../src/runbook/events.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { scriptedPrompter, type ScriptedPrompter } from '../helpers/prompter.js';

/**
 * The runbook's interactive paths: the manual items, the final sign-off and the typed
 * confirmation on a protected environment — in-process with a scripted Prompter, and end to
 * end through a real pseudo-terminal (util-linux `script`) answering inquirer's prompts.
 */

const CHECKLIST = [
  'name: prompts',
  'description: The interactive items, nothing that needs the API',
  'phases:',
  '  - id: pre-deployment',
  '    title: Pre-deployment checks',
  '    items:',
  '      - check: db.reachable',
  '      - manual: custom-gpt-configured',
  '        title: Custom GPT configured',
  '  - id: post-deployment',
  '    title: Post-deployment verification',
  '    items:',
  '      - signoff: final',
  '        title: Final sign-off',
  '',
].join('\n');

/** Nothing to answer at all: only a check. */
const CHECK_ONLY = ['name: quiet', 'phases:', '  - id: pre', '    title: Pre', '    items:', '      - check: db.reachable', ''].join('\n');

const MANUAL_Q = 'Custom GPT configured — done?';
/** The deployer every in-process run here is (`--as`, normalised to lower case). */
const AS = 'Jane@Example.com';
const OPERATOR = 'jane@example.com';
const SIGNOFF_Q = () => `Sign off: deployed by ${OPERATOR} on ${new Date().toISOString().slice(0, 10)}?`;

interface Workspace {
  dir: string;
  db: TestDatabase;
  env: Record<string, string>;
  checklist: string;
  quietChecklist: string;
  runsDir(env: string): string;
  journals(env: string): RunRecord[];
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  /** The question of the typed confirmation for `env` on this workspace's database. */
  typedQuestion(env: string, checklist?: string): string;
}

async function createWorkspace(): Promise<Workspace> {
  const dir = tempDir('routergpt-prompts-');
  const db = await createTestDatabase('prompt');
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    [
      'version: 1',
      'environments:',
      '  staging:',
      '    database: { url_env: DATABASE_URL }',
      '    public_api_base: http://127.0.0.1:9',
      '  prod:',
      '    database: { url_env: DATABASE_URL }',
      '    protected: true',
      '    public_api_base: http://127.0.0.1:9',
      '',
    ].join('\n'),
  );
  const checklist = path.join(dir, 'prompts.yaml');
  writeFileSync(checklist, CHECKLIST);
  const quietChecklist = path.join(dir, 'quiet.yaml');
  writeFileSync(quietChecklist, CHECK_ONLY);
  const runsDir = (env: string) => path.join(dir, '.routergpt', 'runs', env);
  return {
    dir,
    db,
    env: { DATABASE_URL: db.url },
    checklist,
    quietChecklist,
    runsDir,
    journals(env) {
      const d = runsDir(env);
      if (!existsSync(d)) return [];
      return readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(path.join(d, f), 'utf8')) as RunRecord);
    },
    async query(sql, values) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    typedQuestion: (env, name = 'prompts') => `Run the ${name} checklist against ${env} (${maskUrl(db.url)})?\nType the environment name (${env}) to confirm:`,
  };
}

/** An IO on in-memory streams; no terminal (the prompter is injected). */
function memoryIO(cwd: string, env: NodeJS.ProcessEnv): IO & { output(): { stdout: string; stderr: string } } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdout, stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env, cwd, output: () => ({ stdout: out, stderr: err }) };
}

/** runDeploy in-process on `env`, answered by `prompter`; the events it emitted are collected. */
async function deploy(ws: Workspace, env: 'staging' | 'prod', prompter: ScriptedPrompter, options: { yes?: boolean; checklist?: string; events?: RunEvent[] } = {}) {
  const { config } = loadConfig({ flags: { env }, cwd: ws.dir, env: ws.env });
  const io = memoryIO(ws.dir, ws.env);
  const events = options.events ?? [];
  return runDeploy({
    config,
    io,
    cwd: ws.dir,
    checklistFile: options.checklist ?? ws.checklist,
    dryRun: false,
    yes: options.yes ?? false,
    as: AS,
    prompter,
    observer: (event) => events.push(event),
  });
}

function item(run: RunRecord | undefined, id: string) {
  const found = run?.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id} in the run`);
  return found;
}

let ws: Workspace | undefined;
beforeEach(async () => {
  ws = await createWorkspace();
});
afterEach(async () => {
  if (!ws) return;
  await ws.db.drop();
  rmSync(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

describe('manual checklist items, answered at the prompt', () => {
  it('"yes" confirms the item: the run succeeds and the journal records who confirmed it', async () => {
    const prompter = scriptedPrompter([true, true]);
    const events: RunEvent[] = [];
    const result = await deploy(ws!, 'staging', prompter, { events });
    prompter.assertDone();
    // An unprotected environment asks no typed confirmation first.
    expect(prompter.asked.map((q) => [q.kind, q.message, q.options])).toEqual([
      ['confirm', MANUAL_Q, { default: false }],
      ['confirm', SIGNOFF_Q(), { default: true }],
    ]);
    expect(events.filter((e) => e.type === 'prompt').map((e) => (e.type === 'prompt' ? [e.item.id, e.question] : []))).toEqual([
      ['manual.custom-gpt-configured', 'Custom GPT configured'],
      ['signoff.final', 'final sign-off'],
    ]);
    expect(result.run?.status).toBe('succeeded');
    const manual = item(result.run, 'manual.custom-gpt-configured');
    expect(manual).toMatchObject({ state: 'done', signedBy: OPERATOR, summary: `confirmed by ${OPERATOR}` });
    expect(manual.summary).toContain('confirmed');
    expect(Number.isNaN(Date.parse(manual.signedAt ?? ''))).toBe(false);
    // The journal file says the same, and so does routergpt.runs.
    const [journal] = ws!.journals('staging');
    expect(journal?.id).toBe(result.run?.id);
    expect(journal?.status).toBe('succeeded');
    expect(item(journal, 'manual.custom-gpt-configured')).toMatchObject({ state: 'done', signedBy: OPERATOR, summary: `confirmed by ${OPERATOR}` });
    const rows = await ws!.query<{ status: string }>('SELECT status FROM routergpt.runs WHERE id = $1', [result.run?.id]);
    expect(rows).toEqual([{ status: 'succeeded' }]);
  });

  it('"no" fails the item and stops the run there (exit 1): nothing after it is asked or run', async () => {
    const prompter = scriptedPrompter([false]);
    const result = await deploy(ws!, 'staging', prompter);
    prompter.assertDone();
    expect(prompter.questions).toEqual([MANUAL_Q]);
    expect(result.run?.status).toBe('failed');
    expect(failureExitCode(result.run!.items)).toBe(1);
    expect(result.run?.items.map((i) => [i.id, i.state])).toEqual([
      ['db.reachable', 'done'],
      ['manual.custom-gpt-configured', 'failed'],
      ['signoff.final', 'pending'],
    ]);
    expect(item(result.run, 'manual.custom-gpt-configured')).toMatchObject({ signedBy: OPERATOR, summary: `not confirmed by ${OPERATOR}` });
    expect(result.run?.signoff).toBeUndefined();
    const [journal] = ws!.journals('staging');
    expect(journal?.status).toBe('failed');
    expect(item(journal, 'manual.custom-gpt-configured').state).toBe('failed');
  });
});

describe('the final sign-off, answered at the prompt', () => {
  it('records the deployer (their identity, not a typed name) and the date; it asks no approver', async () => {
    const prompter = scriptedPrompter([true, true]);
    const result = await deploy(ws!, 'staging', prompter);
    prompter.assertDone();
    expect(prompter.questions).toEqual([MANUAL_Q, SIGNOFF_Q()]);
    expect(result.run?.status).toBe('succeeded');
    expect(result.run?.startedBy).toBe(OPERATOR);
    expect(result.run?.identitySource).toBe('flag');
    expect(result.run?.signoff).toMatchObject({ deployedBy: OPERATOR, identitySource: 'flag', source: 'prompt' });
    expect(result.run?.signoff).not.toHaveProperty('approver');
    expect(Number.isNaN(Date.parse(result.run?.signoff?.date ?? ''))).toBe(false);
    const final = item(result.run, 'signoff.final');
    expect(final.state).toBe('done');
    expect(final.signedBy).toBe(OPERATOR);
    expect(final.summary).toMatch(new RegExp(`^deployed by ${OPERATOR} on \\d{4}-\\d{2}-\\d{2}$`));
    expect(ws!.journals('staging')[0]?.signoff).toMatchObject({ deployedBy: OPERATOR, source: 'prompt' });
  });

  it('"no" at the sign-off fails it (exit 1); nothing is recorded as signed', async () => {
    const prompter = scriptedPrompter([true, false]);
    const result = await deploy(ws!, 'prod', prompter, { yes: true });
    prompter.assertDone();
    // --yes skips the typed confirmation, not the manual item or the sign-off.
    expect(prompter.asked.map((q) => [q.kind, q.message, q.options])).toEqual([
      ['confirm', MANUAL_Q, { default: false }],
      ['confirm', SIGNOFF_Q(), { default: true }],
    ]);
    expect(result.run?.status).toBe('failed');
    expect(failureExitCode(result.run!.items)).toBe(1);
    const final = item(result.run, 'signoff.final');
    expect(final.state).toBe('failed');
    expect(final.summary).toBe(`The final sign-off was not given by ${OPERATOR}.`);
    expect(result.run?.signoff).toBeUndefined();
    expect(ws!.journals('prod')[0]).toMatchObject({ status: 'failed' });
  });
});

describe('the typed confirmation on a protected environment', () => {
  it('the wrong name cancels before anything starts: no journal file, the database untouched', async () => {
    const prompter = scriptedPrompter(['production']);
    const events: RunEvent[] = [];
    const attempt = deploy(ws!, 'prod', prompter, { events });
    await expect(attempt).rejects.toBeInstanceOf(CancelledError);
    await expect(attempt).rejects.toThrow('Confirmation did not match "prod"; nothing was changed.');
    prompter.assertDone();
    expect(prompter.asked.map((q) => [q.kind, q.message])).toEqual([['input', ws!.typedQuestion('prod')]]);
    // The plan was shown, the run never started.
    expect(events.map((e) => e.type)).toEqual(['plan']);
    expect(ws!.journals('prod')).toEqual([]);
    expect(existsSync(ws!.runsDir('prod')) ? readdirSync(ws!.runsDir('prod')) : []).toEqual([]);
    const [state] = await ws!.query<{ schema: string | null; runs: string | null }>(`SELECT to_regnamespace('routergpt')::text AS schema, to_regclass('routergpt.runs')::text AS runs`);
    expect(state).toEqual({ schema: null, runs: null });
    const tables = await ws!.query(`SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`);
    expect(tables).toEqual([]);
  });

  it('the right name lets the run proceed', async () => {
    const prompter = scriptedPrompter([' prod ', true, true]);
    const result = await deploy(ws!, 'prod', prompter);
    prompter.assertDone();
    expect(prompter.asked.map((q) => [q.kind, q.message])).toEqual([
      ['input', ws!.typedQuestion('prod')],
      ['confirm', MANUAL_Q],
      ['confirm', SIGNOFF_Q()],
    ]);
    expect(result.run?.status).toBe('succeeded');
    expect(result.run?.signoff).toMatchObject({ deployedBy: OPERATOR, source: 'prompt' });
    const rows = await ws!.query<{ status: string; env: string }>('SELECT status, env FROM routergpt.runs WHERE id = $1', [result.run?.id]);
    expect(rows).toEqual([{ status: 'succeeded', env: 'prod' }]);
  });

  it('--yes asks no confirmation: a checklist with nothing manual asks nothing at all', async () => {
    const quiet = scriptedPrompter([]);
    const result = await deploy(ws!, 'prod', quiet, { yes: true, checklist: ws!.quietChecklist });
    quiet.assertDone();
    expect(quiet.asked).toEqual([]);
    expect(result.run?.status).toBe('succeeded');
    // With manual items, --yes still skips the typed confirmation (only the items are asked).
    const prompter = scriptedPrompter([true, true]);
    const full = await deploy(ws!, 'prod', prompter, { yes: true });
    prompter.assertDone();
    expect(prompter.questions).toEqual([MANUAL_Q, SIGNOFF_Q()]);
    expect(full.run?.status).toBe('succeeded');
  });

  it('without --yes, the check-only checklist asks just the typed confirmation', async () => {
    const prompter = scriptedPrompter(['prod']);
    const result = await deploy(ws!, 'prod', prompter, { checklist: ws!.quietChecklist });
    prompter.assertDone();
    expect(prompter.questions).toEqual([ws!.typedQuestion('prod', 'quiet')]);
    expect(result.run?.status).toBe('succeeded');
  });

  it('the scripted prompter itself refuses a question it has no answer for', async () => {
    const prompter = scriptedPrompter([]);
    await expect(deploy(ws!, 'prod', prompter)).rejects.toThrow(/scriptedPrompter: question #1 \(input "Run the prompts checklist against prod[^]*was not scripted/);
    expect(() => prompter.assertDone()).toThrow(/was not scripted/);
  });
});

// --- end to end, through a real pseudo-terminal --------------------------------------------

function hasScript(): boolean {
  try {
    return /util-linux/.test(execFileSync('script', ['--version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

const HAS_SCRIPT = hasScript();
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\r/g;

interface PtyStep {
  /** Text (ANSI codes stripped) that must appear after the previous answer before this one is typed. */
  when: string;
  send: string;
}

interface PtyResult {
  exitCode: number | null;
  /** Everything the terminal showed, ANSI codes stripped. */
  screen: string;
  /** Steps whose text never appeared. */
  unanswered: string[];
}

/**
 * Run `node bin/routergpt.js ARGS` under `script` (a real pty: stdin, stdout and stderr are
 * terminals), typing each answer once its prompt is on the screen. Bounded by `timeoutMs`: the
 * process group is killed and the result says which prompt never came.
 */
function drivePty(args: string[], options: { cwd: string; env: Record<string, string>; steps: PtyStep[]; timeoutMs?: number; columns?: number }): Promise<PtyResult> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  // `script` gives the pty no size unless told: a width makes it a terminal like a person's.
  const command = `${options.columns ? `stty cols ${options.columns} rows 40; ` : ''}${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: cleanEnv({ ...options.env, TERM: 'xterm', COLUMNS: '200', LINES: '50' }),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const steps = [...options.steps];
  let raw = '';
  let cursor = 0;
  const onOutput = (chunk: Buffer) => {
    raw += chunk.toString('utf8');
    const screen = raw.replace(ANSI, '');
    while (steps.length > 0) {
      const at = screen.indexOf(steps[0]!.when, cursor);
      if (at < 0) break;
      const step = steps.shift()!;
      child.stdin.write(step.send);
      cursor = screen.length;
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // `script` runs the CLI in a session of its own: kill that child by pid, then script's group.
      let children: number[] = [];
      try {
        children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        /* no /proc, or already gone */
      }
      for (const pid of [...children, -child.pid!]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ exitCode: code, screen: raw.replace(ANSI, ''), unanswered: steps.map((s) => s.when) });
    });
  });
}

// util-linux `script` is part of every Debian system (bsdutils, essential); .ci/run installs it if missing.
describe('routergpt deploy in a real terminal (util-linux script)', () => {
  it('util-linux script is installed', () => {
    expect(HAS_SCRIPT).toBe(true);
  });

  it('answers the manual item and the sign-off at inquirer prompts; the journal records them', async () => {
    const result = await drivePty(['deploy', '--checklist', ws!.checklist, '--as', AS], {
      cwd: ws!.dir,
      env: { ...ws!.env, ROUTERGPT_ENV: 'staging' },
      steps: [
        { when: `? ${MANUAL_Q}`, send: 'y\r' },
        { when: `? Sign off: deployed by ${OPERATOR}`, send: '\r' },
      ],
    });
    expect(result.unanswered, result.screen).toEqual([]);
    expect(result.exitCode, result.screen).toBe(0);
    expect(result.screen).toContain(`› ${MANUAL_Q} ✔ Yes`);
    expect(result.screen).toContain('deploy staging: SUCCEEDED');
    const journals = ws!.journals('staging');
    expect(journals).toHaveLength(1);
    const run = journals[0]!;
    expect(run.status).toBe('succeeded');
    expect(item(run, 'manual.custom-gpt-configured')).toMatchObject({ state: 'done', summary: expect.stringMatching(/^confirmed by /) });
    expect(item(run, 'manual.custom-gpt-configured').signedBy).toBe(OPERATOR);
    expect(run.signoff).toMatchObject({ deployedBy: OPERATOR, source: 'prompt' });
    expect(item(run, 'signoff.final')).toMatchObject({ state: 'done', signedBy: OPERATOR });
  });

  it('on a protected environment, typing the wrong name cancels (exit 130) and writes no journal', async () => {
    const result = await drivePty(['deploy', '--checklist', ws!.checklist], {
      cwd: ws!.dir,
      env: { ...ws!.env, ROUTERGPT_ENV: 'prod' },
      steps: [{ when: 'Type the environment name (prod) to confirm:', send: 'production\r' }],
    });
    expect(result.unanswered, result.screen).toEqual([]);
    expect(result.exitCode, result.screen).toBe(130);
    expect(result.screen).toContain('Confirmation did not match "prod"; nothing was changed.');
    expect(result.screen).not.toContain(MANUAL_Q);
    expect(ws!.journals('prod')).toEqual([]);
    expect(await ws!.query(`SELECT to_regclass('routergpt.runs')::text AS runs`)).toEqual([{ runs: null }]);
  });

  it('on a protected environment, the right name then "n" at the manual item fails the run (exit 1)', async () => {
    const result = await drivePty(['deploy', '--checklist', ws!.checklist], {
      cwd: ws!.dir,
      env: { ...ws!.env, ROUTERGPT_ENV: 'prod' },
      steps: [
        { when: 'Type the environment name (prod) to confirm:', send: 'prod\r' },
        { when: `? ${MANUAL_Q}`, send: 'n\r' },
      ],
    });
    expect(result.unanswered, result.screen).toEqual([]);
    expect(result.exitCode, result.screen).toBe(1);
    // The answer carries its own mark: a "No" is never drawn with inquirer's green tick.
    expect(result.screen).toContain(`› ${MANUAL_Q} ✖ No`);
    expect(result.screen).not.toMatch(/✔[^\n]*No\b/);
    expect(result.screen).not.toContain('Sign off:');
    const [run] = ws!.journals('prod');
    expect(run?.status).toBe('failed');
    expect(item(run, 'manual.custom-gpt-configured')).toMatchObject({ state: 'failed', summary: expect.stringMatching(/^not confirmed by /) });
    expect(item(run, 'signoff.final').state).toBe('pending');
    expect(run?.signoff).toBeUndefined();
  });

  it('on prod, the deployer typing their own identity at the approval prompt is refused (exit 2): db.migrate never starts', async () => {
    const guarded = path.join(ws!.dir, 'guarded.yaml');
    writeFileSync(guarded, ['name: guarded', 'phases:', '  - id: pre', '    title: Gate', '    items:', '      - check: db.reachable', '      - approval: release', '        title: Release approved', '  - id: database', '    title: Database', '    items:', '      - step: db.migrate', ''].join('\n'));
    const result = await drivePty(['deploy', '--checklist', guarded, '--as', AS], {
      cwd: ws!.dir,
      env: { ...ws!.env, ROUTERGPT_ENV: 'prod' },
      steps: [
        { when: 'Type the environment name (prod) to confirm:', send: 'prod\r' },
        { when: "? Release approved — approver's identity", send: 'JANE@example.com\r' },
      ],
    });
    expect(result.unanswered, result.screen).toEqual([]);
    expect(result.exitCode, result.screen).toBe(2);
    expect(result.screen).toContain(`${OPERATOR} is deploying this run and cannot approve it on prod`);
    const [run] = ws!.journals('prod');
    expect(item(run, 'approval.release')).toMatchObject({ state: 'failed', errorKind: 'UsageError' });
    expect(item(run, 'db.migrate').state).toBe('pending');
    expect(await ws!.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('with nothing to ask (--yes), a sized terminal gets the live task list (listr2), not the plain lines', async () => {
    const result = await drivePty(['deploy', '--checklist', ws!.quietChecklist, '--yes'], { cwd: ws!.dir, env: { ...ws!.env, ROUTERGPT_ENV: 'staging' }, steps: [], columns: 120 });
    expect(result.exitCode, result.screen).toBe(0);
    expect(result.screen).toContain('✔');
    expect(result.screen).toContain('db.reachable — ');
    expect(result.screen).not.toContain('▶ db.reachable');
    expect(ws!.journals('staging')[0]?.status).toBe('succeeded');
  });
});
