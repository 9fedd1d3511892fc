/**
 * api.schema-matches on servers that cannot say, or say something odd: a server older than schema
 * reporting (no `schema` in /health), a server whose database is down, a malformed field, a
 * database with no migration at all. The real-server scenarios (behind, ahead, equal) are in
 * test/server/health-schema.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import apiSchemaMatches from '../../src/checks/api/schema-matches.js';
import { checkConfig, depsFor, runCheck, sendJson, startFakeServer, type Handler } from './helpers.js';

const config = checkConfig('postgres://unused@127.0.0.1/unused');
const servers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serving(body: unknown, status = 200): Promise<string> {
  const handler: Handler = (_req, _body, res) => sendJson(res, status, body);
  const server = await startFakeServer(handler);
  servers.push(server);
  return server.url;
}

const rateLimits = { store: 'memory', redis: 'not-configured' };

describe('api.schema-matches', () => {
  it('old-server (no schema field): fails saying the server predates schema reporting', async () => {
    const base = await serving({ ok: true, database: 'ok', router_enabled: true, rate_limits: rateLimits });
    const result = await runCheck(apiSchemaMatches, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/has no "schema" field: this server predates schema reporting/);
    expect(result.hint).toContain('routergpt migrate status');
  });

  it('database-unreachable (503 without schema): fails naming the database, not an old server', async () => {
    const base = await serving({ ok: false, database: 'unreachable', router_enabled: true, reason: 'the database is unreachable (ECONNREFUSED)', rate_limits: rateLimits }, 503);
    const result = await runCheck(apiSchemaMatches, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('cannot tell which schema the server runs against: its database is unreachable (the database is unreachable (ECONNREFUSED))');
  });

  it('malformed-schema: fails', async () => {
    const base = await serving({ ok: true, database: 'ok', router_enabled: true, schema: { applied: 9, expected: '009' } });
    const result = await runCheck(apiSchemaMatches, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/malformed "schema" field/);
  });

  it('nothing-applied: fails saying the database has no migration', async () => {
    const base = await serving({ ok: false, database: 'ok', router_enabled: true, reason: 'schema_behind: …', schema: { applied: null, expected: '009', ahead: false } }, 503);
    const result = await runCheck(apiSchemaMatches, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('running code needs migration 009, the database has no migration applied');
  });

  it('versions compare as numbers: 1000 is ahead of 999', async () => {
    const base = await serving({ ok: true, database: 'ok', router_enabled: true, schema: { applied: '1000', expected: '999', ahead: true } });
    const result = await runCheck(apiSchemaMatches, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('warn');
  });
});
