/**
 * `rollback --tier restore` on a real PostgreSQL: before anything changes it previews what will
 * be lost (a booking made and a booking cancelled since the backup), takes a safety backup of
 * the current state, and with --keep-writes both bookings survive the restore with their slots.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SHOP_SLUGS } from '../../src/db/seed.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli } from '../helpers/cli.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.stop();
  ws = undefined;
});

function lastRun(w: Workspace): RunRecord {
  const dir = path.join(w.dir, '.routergpt', 'runs', 'staging');
  const runs = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord);
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id)).at(-1)!;
}

/** A booking of one hour at `start` (UTC, on a quarter hour) with its four slots. */
async function book(w: Workspace, start: string, name: string): Promise<string> {
  // A real shop: not one of the test shops the deploy purges.
  const [shop] = await w.query<{ shop: string; service: string }>(`SELECT s.id::text AS shop, v.id::text AS service FROM shops s JOIN services v ON v.shop_id = s.id WHERE s.slug <> ALL($1) ORDER BY s.id LIMIT 1`, [[...TEST_SHOP_SLUGS]]);
  const [row] = await w.query<{ id: string }>(`INSERT INTO bookings (shop_id, service_id, customer_name, starts_at, ends_at) VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + interval '1 hour') RETURNING id::text`, [shop!.shop, shop!.service, name, start]);
  await w.query(`INSERT INTO booking_slots (shop_id, slot_start, booking_id) SELECT $1, g, $2 FROM generate_series($3::timestamptz, $3::timestamptz + interval '45 minutes', interval '15 minutes') g`, [shop!.shop, row!.id, start]);
  return row!.id;
}

describe('rollback --tier restore: loss preview, safety backup, --keep-writes', () => {
  it('shows the booking made and the one cancelled since the backup, backs up first, and keeps both with --keep-writes', async () => {
    ws = await createWorkspace();
    // A production-like database before the deploy: the schema at 009 with shops and one booking.
    expect((await runCli(['migrate', 'up', '--yes'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    expect((await runCli(['db', 'seed', '--demo'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    const before = await book(ws, '2031-01-06T16:00:00Z', 'Booked before the deploy');
    expect((await ws.deploy()).exitCode).toBe(0);

    // Real traffic after the deploy: a new booking, and the old one cancelled (its slots freed).
    const after = await book(ws, '2031-01-07T16:00:00Z', 'Booked after the deploy');
    await ws.query(`UPDATE bookings SET status = 'cancelled' WHERE id = $1`, [before]);
    await ws.query(`DELETE FROM booking_slots WHERE booking_id = $1`, [before]);

    const preview = await runCli(['rollback', '--tier', 'restore', '--dry-run'], { cwd: ws.dir, env: ws.env });
    expect(preview.exitCode, preview.stderr).toBe(0);
    expect(preview.stderr).toMatch(/lose: bookings: 1 inserted, 1 updated since the backup \(newest 20\d\d-/);
    expect(preview.stderr).toMatch(/lose: booking_slots: 4 inserted, 4 deleted since the backup/);
    expect(preview.stderr).toContain('--keep-writes re-applies');
    expect(await ws.query(`SELECT status FROM bookings WHERE id = $1`, [before])).toEqual([{ status: 'cancelled' }]);

    const rollback = await runCli(['rollback', '--tier', 'restore', '--keep-writes', '--yes', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    const run = lastRun(ws);
    expect(run.items.map((i) => [i.id, i.state])).toEqual([['db.backup', 'done'], ['undo.db.backup', 'done']]);
    // The safety backup holds the state that was about to be replaced (both bookings as they were).
    const safety = JSON.parse(readFileSync(String(run.items[0]!.outputs!.manifest), 'utf8')) as { label: string; tables: Record<string, number> };
    expect(safety.label).toMatch(/^safety-/);
    expect(safety.tables.bookings).toBe(2);
    // The restore happened (the demo data the deploy geocoded is back to its pre-deploy state)…
    expect(run.items[1]!.summary).toContain('checksums match the backup');
    // …and the writes made since were kept: the new booking with its slots, the cancellation.
    expect(await ws.query(`SELECT id::text, status FROM bookings ORDER BY starts_at`)).toEqual([
      { id: before, status: 'cancelled' },
      { id: after, status: 'confirmed' },
    ]);
    expect(await ws.query<{ n: number }>(`SELECT count(*)::int AS n FROM booking_slots WHERE booking_id = $1`, [after])).toEqual([{ n: 4 }]);
    expect(await ws.query<{ n: number }>(`SELECT count(*)::int AS n FROM booking_slots WHERE booking_id = $1`, [before])).toEqual([{ n: 0 }]);
    expect(run.items[1]!.details).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^kept: booking ${after} \\(inserted`)), expect.stringMatching(new RegExp(`^kept: booking ${before} \\(updated, cancelled`))]));
  }, 180_000);

  it('without --keep-writes the booking made since is gone, and the preview said so', async () => {
    ws = await createWorkspace();
    expect((await runCli(['migrate', 'up', '--yes'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    expect((await runCli(['db', 'seed', '--demo'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    expect((await ws.deploy()).exitCode).toBe(0);
    await book(ws, '2031-01-07T16:00:00Z', 'Booked after the deploy');
    const rollback = await runCli(['rollback', '--tier', 'restore', '--yes', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('lose: bookings: 1 inserted since the backup');
    expect(await ws.query(`SELECT id FROM bookings`)).toEqual([]);
  }, 180_000);

  it('--keep-writes without a restore tier is a usage error that changes nothing (exit 2)', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await runCli(['rollback', '--tier', 'toggle', '--keep-writes', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--keep-writes re-applies writes after a restore');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
