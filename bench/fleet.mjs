// bench/fleet (issue 15, "Speed"): rolling deploys and the releases-layout code rollback on the real
// three-host test fleet of test/fleet/test-fleet.ts — hosts on 127.0.1.1–3, each its own sshd and
// `routergpt serve`, behind haproxy — through the real CLI, reached through `via: [ssh, …]`.
//
// 1. Rolling deploy (`deploy.strategy: {batch: 1}`, the config of test/fleet/ssh-fleet.test.ts):
//    per host its command (the host script: stop the server, start the release), its gate (own
//    /health on the new release, then api.health against its url) and its wall time; the
//    code.deploy item's time against the sum of the hosts' own command times (its journaled
//    record in routergpt.runs: outputs.runs[].durationMs, startedAt/finishedAt). The difference is
//    what the gates and the pre-flight (ssh `true` per host, each host's /health) cost.
// 2. `deploy.layout: releases`: a deploy of a new release (built by tsc in releases/<release>/
//    on each host, current switched, restart, gate) against `routergpt rollback --tier code`
//    (current switched back, restart, gate: no rebuild) — the time from spawning the rollback to
//    every host answering the old release on its own /health.
// Steady traffic goes through the load balancer during every timed phase; a request that fails
// or takes over 1 s is counted. Medians over BENCH_RUNS (default 3) repeats, with the spread.
//
// The harness is the tests' own, imported at bench time through vite's runnerImport (bench files
// are plain .mjs; vite comes with vitest). test/helpers/db.ts takes the PostgreSQL admin URL from
// vitest's `inject`; here a one-line virtual `vitest` module answers it from TEST_DATABASE_URL.
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, freshDir } from './_local.mjs';
import { figure, median } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// The gates' overhead target: the rolling item at most ×2 of its hosts' own command times — the
// gates and the pre-flight together may cost no more than the commands. A gate waits for the
// restarted server to answer (its start-up: the host script returns 0.3 s after starting it) and
// runs one smoke check; the pre-flight is one `ssh … true` and one /health per host.
const GATE_TARGET = 2;
const SLOW_MS = 1000;
const log = (line) => process.stderr.write(`[fleet] ${line}\n`);

// ---------------------------------------------------------------- the harness, from the tests

/** test/helpers/db.ts reads vitest's inject('pgAdminUrl'); outside vitest this answers it. */
const vitestInject = {
  name: 'bench-vitest-inject',
  resolveId: (id) => (id === '\0bench-vitest' ? id : undefined),
  load: (id) => (id === '\0bench-vitest' ? `export const inject = (key) => { if (key === 'pgAdminUrl') return ${JSON.stringify(ADMIN_URL)}; throw new Error('bench/fleet: inject(' + key + ') is not provided'); };` : undefined),
};

async function importTs(file) {
  const { runnerImport } = await import('vite');
  const { module } = await runnerImport(path.join(ROOT, file), { configFile: false, logLevel: 'error', root: ROOT, resolve: { alias: { vitest: '\0bench-vitest' } }, plugins: [vitestInject] });
  return module;
}

// ---------------------------------------------------------------- helpers

/** The CLI runs in flight, so a teardown can stop them before it stops the hosts they act on. */
const inFlight = new Set();

/** The CLI with every output line timestamped as it arrives (the rollout's progress lines date each host's phases). */
function cli(cwd, env, args) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1', LANG: 'C.UTF-8', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    const collect = (stream) => {
      let rest = '';
      stream.on('data', (chunk) => {
        const at = Date.now();
        const parts = (rest + chunk).split('\n');
        rest = parts.pop();
        for (const text of parts) lines.push({ at, text });
      });
      stream.on('end', () => rest && lines.push({ at: Date.now(), text: rest }));
    };
    collect(child.stdout);
    collect(child.stderr);
    inFlight.add(child);
    child.on('error', reject);
    child.on('close', (code) => {
      inFlight.delete(child);
      resolve({ code, started, ms: Date.now() - started, lines });
    });
  });
}

function verifyExit(result, what) {
  if (result.code === 0) return;
  throw new Error(`${what} exited ${result.code}:\n${result.lines.slice(-30).map((l) => l.text).join('\n')}`);
}

async function healthVersion(url) {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = await res.json();
    return res.status === 200 && body.ok ? body.version : undefined;
  } catch {
    return undefined;
  }
}

/** Poll every host's own /health until all report `version`; resolves with the time that was first true. */
async function allOn(hosts, version, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const versions = await Promise.all(hosts.map((h) => healthVersion(h.url)));
    if (versions.every((v) => v === version)) return Date.now();
    if (Date.now() > deadline) throw new Error(`the hosts never all reported ${version}: ${versions.join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Polls each host's own /health every 50 ms while a deploy runs and notes when it first reports
 * `version`: the moment the host was ready, which splits its gate into the server's start-up
 * (ready − its commands' end) and what routergpt's gate adds after it (poll interval, smoke, checkpoint).
 */
function watchReady(hosts, version) {
  const readyAt = new Map();
  let running = true;
  const loop = (async () => {
    while (running && readyAt.size < hosts.length) {
      await Promise.all(hosts.filter((h) => !readyAt.has(h.name)).map(async (h) => {
        if ((await healthVersion(h.url)) === version) readyAt.set(h.name, Date.now());
      }));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return readyAt;
    },
  };
}

/** The journaled record of a run (routergpt.runs), and its code item. */
async function codeItem(pool, kind, release) {
  const { rows } = await pool.query("SELECT record FROM routergpt.runs WHERE record->>'kind' = $1 AND ($2::text IS NULL OR record->>'release' = $2) ORDER BY record->>'startedAt' DESC LIMIT 1", [kind, release ?? null]);
  const item = rows[0]?.record.items.find((i) => i.id === 'code.deploy' || i.id === 'undo.code.deploy');
  if (!item) throw new Error(`no code.deploy item in the newest ${kind} run${release ? ` of ${release}` : ''}: ${JSON.stringify(rows[0]?.record.items.map((i) => i.id))}`);
  return { item, runs: item.outputs?.runs ?? [], ms: Date.parse(item.finishedAt) - Date.parse(item.startedAt) };
}

/**
 * Per host, from the progress lines: its wall time (its first command line to the next host's,
 * or to the item's end), its commands' own time (from the journal), the rest being its gate.
 * `restart` picks the commands that restart the server, reported apart.
 */
function perHost(hosts, result, runs, itemEnd, isCommand, readyAt, restart = () => false) {
  const starts = hosts.map((h) => result.lines.find((l) => l.text.trim().startsWith(`${h.name}: `) && isCommand(l.text))?.at);
  return hosts.map((h, i) => {
    const mine = runs.filter((r) => r.host === h.name);
    const restartMs = mine.filter((r) => restart(r.command)).reduce((s, r) => s + r.durationMs, 0);
    const commandsMs = mine.reduce((s, r) => s + r.durationMs, 0);
    const end = starts[i + 1] ?? itemEnd;
    const wallMs = starts[i] !== undefined && end !== undefined ? end - starts[i] : Number.NaN;
    const gateMs = wallMs - commandsMs;
    // The host answered on the release this long after its commands ended (≥ 0: a server can answer before its script returns).
    const startupMs = readyAt.has(h.name) ? Math.max(0, readyAt.get(h.name) - (starts[i] + commandsMs)) : Number.NaN;
    return { name: h.name, wallMs, commandsMs, restartMs, gateMs, startupMs, ownGateMs: gateMs - startupMs };
  });
}

/** From the item's start line (`▶ code.deploy`) to the first host's first command: the pre-flight. */
function preflight(result, hosts, isCommand) {
  const start = result.lines.find((l) => l.text.includes('▶ code.deploy'))?.at;
  const first = result.lines.find((l) => l.text.trim().startsWith(`${hosts[0].name}: `) && isCommand(l.text))?.at;
  return start !== undefined && first !== undefined ? first - start : Number.NaN;
}

/**
 * The processes still working inside this run's fleet directory (a host's server, or a host script
 * a killed deploy left behind over ssh): their cwd is under `dir`, which this run made.
 */
function stragglers(dir) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

const spread = (xs) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------- the benchmark

export async function run() {
  const { fleetUnavailable, startFleet, steadyTraffic } = await importTs('test/fleet/test-fleet.ts');
  const { createMigratedDatabase } = await importTs('test/helpers/migrated-db.ts');
  const unavailable = fleetUnavailable();
  if (unavailable) return { name: 'fleet', target: 'not run', runs: 0, pass: false, lines: [`the test fleet cannot run here: ${unavailable}`] };
  const loadBefore = os.loadavg()[0];

  let db;
  let fleet;
  const dirs = [];
  let tornDown;
  // Once, whoever asks first (the signal handler or the finally below): the CLI runs in flight
  // first (a deploy would start servers behind the teardown's back), then the fleet, whatever a
  // killed run left running in it, the database and the directories.
  const teardown = () => (tornDown ??= (async () => {
    for (const child of inFlight) child.kill('SIGKILL');
    if (fleet) {
      await new Promise((r) => setTimeout(r, inFlight.size ? 1500 : 0)); // a host script mid-restart writes its pid
      await fleet.stop().catch((error) => log(`fleet stop: ${error.message}`));
      for (const pid of stragglers(fleet.dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await db?.close().catch((error) => log(`database drop: ${error.message}`));
    for (const dir of [...dirs, fleet?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  })());
  // Ctrl-C mid-run: sshd, haproxy and the servers go too, then the signal is raised again. `on`,
  // not `once`: execa's exit hook re-raises a signal at once when it sees no other listener.
  const onSignal = (signal) => {
    log(`${signal}: tearing the fleet down`);
    void teardown().finally(() => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    db = await createMigratedDatabase({ prefix: 'bench_fleet' });
    fleet = await startFleet({ databaseUrl: db.url });
    const rolling = Array.from({ length: RUNS + 1 }, (_, i) => `c${i}`);
    const layout = ['b0', ...Array.from({ length: RUNS }, (_, i) => `r${i + 1}`)];
    for (const release of [...rolling, ...layout]) fleet.addRelease(release);
    await Promise.all(fleet.hosts.map((h) => fleet.boot(h.name, 'c0')));
    await new Promise((r) => setTimeout(r, 1500)); // haproxy sees every host up (rise 2)

    const q = (v) => JSON.stringify(v);
    const hostLines = fleet.hosts.map((h) => `        - { name: ${h.name}, url: ${q(h.url)}, via: [${h.via.map(q).join(', ')}] }`);
    const hostScript = `sh ${fleet.hostScript}`;
    const appRoot = path.join(fleet.dir, 'app');
    const control = freshDir('routergpt-bench-fleet-');
    dirs.push(control);
    writeFileSync(path.join(control, 'routergpt.config.yaml'), [
      'version: 1',
      'environments:',
      // The rolling deploy of ssh-fleet.test.ts: the host script restarts the host on the release.
      '  fleet:',
      '    database: { url_env: DATABASE_URL }',
      '    deploy:',
      '      timeout: 60s',
      '      hosts:',
      ...hostLines,
      '      strategy: { batch: 1, gate_timeout: 60s }',
      `      commands: [${q(`${hostScript} "$ROUTERGPT_RELEASE"`)}]`,
      `      rollback_commands: [${q(`${hostScript} "$ROUTERGPT_ROLLBACK_RELEASE"`)}]`,
      // The releases layout: each host builds the release in releases/<release>/ (this repository's
      // src/ compiled by tsc, as `npm run build` does; node_modules shared, as the fleet's releases
      // share one), switches current and restarts with the same host script. The three hosts share
      // this machine's disk, hence one app root: each switches current on its own turn, and the
      // servers run the fleet's release scripts (a build being rewritten by the next host is never
      // what a server reads).
      '  fleet-releases:',
      '    database: { url_env: DATABASE_URL }',
      '    deploy:',
      '      timeout: 180s',
      '      hosts:',
      ...hostLines,
      '      strategy: { batch: 1, gate_timeout: 60s }',
      '      layout: releases',
      `      path: ${q(appRoot)}`,
      '      keep_releases: 10',
      `      commands: [${q(`cp -R ${['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(ROOT, f)).join(' ')} . && ln -sfn ${path.join(ROOT, 'node_modules')} node_modules && ${process.execPath} node_modules/typescript/bin/tsc -p tsconfig.build.json && echo "$ROUTERGPT_RELEASE" > VERSION`)}]`,
      `      restart: ${q(`${hostScript} "$ROUTERGPT_RELEASE"`)}`,
      '',
    ].join('\n'));
    writeFileSync(path.join(control, 'code.yaml'), ['name: code', 'phases:', '  - id: deploy', '    title: Deploy', '    items:', '      - step: code.deploy', '        params: { smoke: [api.health] }', ''].join('\n'));
    const envOf = (name) => ({ DATABASE_URL: db.url, ROUTERGPT_ENV: name });
    const deploy = (envName, release) => cli(control, envOf(envName), ['deploy', '--checklist', path.join(control, 'code.yaml'), '--yes', '--release', release]);

    // Steady traffic through haproxy (2 clients, a request every 200 ms each) during each timed phase.
    const traffic = {};
    const underTraffic = async (phase, fn) => {
      const client = steadyTraffic(fleet.lbUrl);
      try {
        return await fn();
      } finally {
        const seen = await client.stop();
        const t = (traffic[phase] ??= { total: 0, failed: [], slow: 0, slowest: 0 });
        t.total += seen.total;
        t.failed.push(...seen.failed);
        t.slow += seen.slow;
        t.slowest = Math.max(t.slowest, seen.slowest);
      }
    };
    const isCommand = (text) => text.includes(fleet.hostScript) || text.includes("P='");
    const isRestart = (command) => command.includes(`/current && {`);
    /** One deploy under traffic, its hosts' readiness watched: the CLI's lines, the journaled item, the per-host split. */
    const timedDeploy = async (envName, release, phase) => {
      const ready = watchReady(fleet.hosts, release);
      const result = await underTraffic(phase, () => deploy(envName, release));
      const readyAt = await ready.stop();
      verifyExit(result, `deploy --release ${release} (${phase})`);
      if (process.env.BENCH_FLEET_DEBUG) for (const l of result.lines) log(`${l.at - result.started} ${l.text}`);
      await allOn(fleet.hosts, release, 5000);
      const { runs, ms, item } = await codeItem(db.pool, 'deploy', release);
      const commandsMs = runs.reduce((sum, r) => sum + r.durationMs, 0);
      const hosts = perHost(fleet.hosts, result, runs, Date.parse(item.finishedAt), isCommand, readyAt, isRestart);
      return { cliMs: result.ms, itemMs: ms, commandsMs, ratio: ms / commandsMs, hosts, preflightMs: preflight(result, fleet.hosts, isCommand) };
    };

    // 1. Rolling deploys, commands layout.
    const rolls = [];
    for (let i = 1; i <= RUNS; i += 1) {
      const release = rolling[i];
      const r = await timedDeploy('fleet', release, 'rolling deploys');
      rolls.push(r);
      log(`rolling ${release}: CLI ${r.cliMs} ms, item ${r.itemMs} ms, commands ${r.commandsMs} ms (×${r.ratio.toFixed(2)}); ${r.hosts.map((h) => `${h.name} ${h.wallMs} ms (command ${h.commandsMs}, gate ${h.gateMs}: start-up ${h.startupMs} + own ${h.ownGateMs})`).join(', ')}`);
    }

    // 2. The releases layout: a first deploy makes current (b0, not timed), then each repeat
    //    deploys a new release and rolls it back to b0.
    verifyExit(await deploy('fleet-releases', 'b0'), 'deploy --release b0 (releases layout)');
    await allOn(fleet.hosts, 'b0', 5000);
    const layoutRuns = [];
    for (let i = 1; i <= RUNS; i += 1) {
      const release = layout[i];
      const dep = await timedDeploy('fleet-releases', release, 'releases-layout deploys');
      const back = await underTraffic('releases-layout rollbacks', async () => {
        const started = Date.now();
        const child = cli(control, envOf('fleet-releases'), ['rollback', '--tier', 'code', '--yes', '--no-verify', '--release', `${release}-rollback`]);
        const allBack = await allOn(fleet.hosts, 'b0', 120_000);
        return { result: await child, toAllMs: allBack - started };
      });
      verifyExit(back.result, `rollback --tier code of ${release}`);
      if (readlinkSync(path.join(appRoot, 'current')) !== 'releases/b0') throw new Error(`after the rollback of ${release}, current points to ${readlinkSync(path.join(appRoot, 'current'))}, not releases/b0`);
      if (process.env.BENCH_FLEET_DEBUG) for (const l of back.result.lines) log(`${l.at - back.result.started} ${l.text}`);
      const backItem = await codeItem(db.pool, 'rollback');
      const backRestartMs = backItem.runs.reduce((sum, r) => sum + r.durationMs, 0);
      layoutRuns.push({ deployMs: dep.cliMs, deployItemMs: dep.itemMs, rollbackMs: back.toAllMs, rollbackCliMs: back.result.ms, rollbackItemMs: backItem.ms, rollbackCommandsMs: backRestartMs, ratio: back.toAllMs / dep.cliMs, depHosts: dep.hosts });
      log(`releases ${release}: deploy ${dep.cliMs} ms (item ${dep.itemMs}); rollback to every host on b0 ${back.toAllMs} ms (CLI ${back.result.ms}, item ${backItem.ms}, its commands ${backRestartMs}) → ×${(back.toAllMs / dep.cliMs).toFixed(2)}`);
    }

    // ---------------------------------------------------------------- the figures
    const ratio = median(rolls.map((r) => r.ratio));
    const rollbackRatio = median(layoutRuns.map((r) => r.ratio));
    const hostRow = (name) => {
      const mine = rolls.map((r) => r.hosts.find((h) => h.name === name));
      const m = (k) => Math.round(median(mine.map((h) => h[k])));
      return `  ${name}: wall ${m('wallMs')} ms (${spread(mine.map((h) => h.wallMs))}) = command (stop, start) ${m('commandsMs')} ms + gate ${m('gateMs')} ms (server start-up ${m('startupMs')} ms, then routergpt's gate ${m('ownGateMs')} ms)`;
    };
    const layoutHostRow = (name) => {
      const mine = layoutRuns.map((r) => r.depHosts.find((h) => h.name === name));
      const m = (k) => Math.round(median(mine.map((h) => h[k])));
      return `  ${name}: wall ${m('wallMs')} ms = build, switch, prune ${m('commandsMs') - m('restartMs')} ms + restart ${m('restartMs')} ms + gate ${m('gateMs')} ms`;
    };
    const phases = Object.entries(traffic);
    const pass = phases.every(([, t]) => t.failed.length === 0 && t.slow === 0) && ratio <= GATE_TARGET && rollbackRatio < 1;
    return {
      name: 'fleet',
      target: `0 failed and 0 > ${SLOW_MS / 1000} s requests through haproxy; rolling item ≤ ×${GATE_TARGET} of its hosts' command times; releases rollback (to every host on the old release) < the deploy`,
      runs: RUNS,
      pass,
      figures: [
        figure('fleet.gate-overhead', 'rolling deploy of 3 hosts: `code.deploy` item ÷ the hosts\' own commands', rolls.map((r) => r.ratio), { target: { op: '<=', value: GATE_TARGET }, baseline: { label: 'the hosts\' stop/start commands', median: median(rolls.map((r) => r.commandsMs)), unit: 'ms' } }),
        figure('fleet.rollback-vs-deploy', '`releases` layout: `rollback --tier code` ÷ the deploy', layoutRuns.map((r) => r.ratio), { target: { op: '<', value: 1 }, baseline: { label: 'the deploy (CLI)', median: median(layoutRuns.map((r) => r.deployMs)), unit: 'ms' } }),
        figure('fleet.failed-requests', 'requests failed or over the slow bound through haproxy, all phases', [phases.reduce((n, [, t]) => n + t.failed.length + t.slow, 0)], { unit: '', target: { op: '<=', value: 0 }, note: `of ${phases.reduce((n, [, t]) => n + t.total, 0)} requests` }),
      ],
      lines: [
        `rolling deploy of 3 hosts through ssh (batch 1, gate: own /health on the release + api.health), medians (spread):`,
        `  CLI ${s(median(rolls.map((r) => r.cliMs)))} (${spread(rolls.map((r) => r.cliMs))} ms); code.deploy item ${s(median(rolls.map((r) => r.itemMs)))} (${spread(rolls.map((r) => r.itemMs))} ms); the hosts' own commands ${s(median(rolls.map((r) => r.commandsMs)))} (${spread(rolls.map((r) => r.commandsMs))} ms)`,
        `  gates and pre-flight: item ×${ratio.toFixed(2)} of the commands (${rolls.map((r) => r.ratio.toFixed(2)).join(', ')}; target ≤ ×${GATE_TARGET}); pre-flight ${Math.round(median(rolls.map((r) => r.preflightMs)))} ms, gates ${Math.round(median(rolls.map((r) => r.hosts.reduce((sum, h) => sum + h.gateMs, 0))))} ms`,
        ...fleet.hosts.map((h) => hostRow(h.name)),
        `releases layout (deploy: tsc build in releases/<release>/, current switched, restart, gate; rollback: current switched back, restart, gate), medians (spread):`,
        `  deploy CLI ${s(median(layoutRuns.map((r) => r.deployMs)))} (${spread(layoutRuns.map((r) => r.deployMs))} ms), item ${s(median(layoutRuns.map((r) => r.deployItemMs)))}`,
        ...fleet.hosts.map((h) => layoutHostRow(h.name)),
        `  rollback --tier code → every host answering the old release: ${s(median(layoutRuns.map((r) => r.rollbackMs)))} (${spread(layoutRuns.map((r) => r.rollbackMs))} ms); CLI ${s(median(layoutRuns.map((r) => r.rollbackCliMs)))}, item ${s(median(layoutRuns.map((r) => r.rollbackItemMs)))}, its switch + restart commands ${s(median(layoutRuns.map((r) => r.rollbackCommandsMs)))}`,
        `  rollback ×${rollbackRatio.toFixed(2)} of the deploy (${layoutRuns.map((r) => r.ratio.toFixed(2)).join(', ')}; target < ×1)`,
        ...phases.map(([phase, t]) => `through haproxy during the ${phase}: ${t.total} requests, ${t.failed.length} failed${t.failed.length ? ` (${t.failed.slice(0, 3).map((f) => f.status).join('; ')})` : ''}, ${t.slow} over ${SLOW_MS / 1000} s, slowest ${Math.round(t.slowest)} ms`),
        `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} cores`,
      ],
    };
  } finally {
    await teardown();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
