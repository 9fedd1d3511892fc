// bench/verify-pg: `routergpt verify` (every check) on a staging workspace against real
// PostgreSQL (BENCH_DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/postgres)
// and a real `routergpt serve`, against the same database and HTTP probes by hand (one `psql -c`
// or `curl` process each, in sequence: bench/verify-local.mjs's list) — interleaved in the same
// run. Target (issue 16): ≥ 5× faster than by hand. A throwaway database, dropped at the end.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { BIN, cli, exited, freePort, freshDir } from './_local.mjs';
import { byHandProbes, timeVerifyAndProbes, verifyResult } from './verify-local.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql) {
  const client = new pg.Client({ connectionString: ADMIN });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function run() {
  const name = `routergpt_bench_verify_${process.pid}`;
  const dbUrl = new URL(ADMIN);
  dbUrl.pathname = `/${name}`;
  await admin(`CREATE DATABASE "${name}"`);
  const dir = freshDir('routergpt-bench-verify-pg-');
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', `    public_api_base: http://127.0.0.1:${port}`, '    allow_test_bookings: false', '    rate_limits: { search_per_minute: 100000, delegate_per_minute: 100000 }', ''].join('\n'),
  );
  const env = { DATABASE_URL: dbUrl.toString(), ROUTERGPT_ENV: 'staging' };
  let server;
  try {
    cli(['migrate', 'up'], dir, env);
    cli(['db', 'seed', '--demo'], dir, env);
    server = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { cwd: dir, env: { ...process.env, ...env, NO_COLOR: '1', RATE_LIMIT_SEARCH_PER_MIN: '100000', RATE_LIMIT_DELEGATE_PER_MIN: '100000' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let up = false;
    for (let i = 0; i < 600 && !up; i += 1) {
      up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) throw new Error('routergpt serve did not start');
    const probes = byHandProbes(port, [dbUrl.toString()]);
    const { verify, byHand, checks } = timeVerifyAndProbes(dir, env, probes, RUNS);
    return verifyResult('verify-pg', 'verify on real PostgreSQL ≥ 5× faster than the probes by hand', { verify, byHand, probes: probes.length, checks, minFaster: 5 });
  } finally {
    if (server) {
      server.kill('SIGTERM');
      await exited(server);
    }
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} (${r.runs} runs) → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
