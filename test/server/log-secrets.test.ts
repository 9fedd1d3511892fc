/**
 * Issue 14, A10 — secrets in the server log: an upstream (OpenAI) error that echoes the API key was
 * logged in nested fields (`error.message`, `param`, `requestID`) unmasked. The real `openai` client
 * against a loopback server speaking OpenAI's error format, the real server and its real logger,
 * its lines captured.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/checks/security/secrets-not-committed.js';
import { createLogger, maskRecord } from '../../src/server/logger.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

const KEY = 'sk-proj-Ab3_dE-fGh1jKlMn0pQrStUvWxYz_12-34567890abcdEFGH'; // routergpt:allow-secret
const FOREIGN = 'sk-svcacct-ZyXwVuTsRqPoNmLkJiHgFeDcBa_0987654321-zyxw'; // routergpt:allow-secret

/** OpenAI's 401 for a wrong key, echoing it (and a second, foreign key) in every field it can. */
async function startEchoingOpenAi() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': `req_${KEY}` });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}. Also seen: ${FOREIGN}`, type: 'invalid_request_error', param: KEY, code: 'invalid_api_key' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

let sdb: ServerDb;
let shop: TestShop;
beforeAll(async () => {
  sdb = await createServerDb('logsecrets');
  shop = await insertTestShop(sdb.pool);
}, 60_000);
afterAll(async () => {
  await sdb?.close();
});

describe('regression: no secret reaches the server log, at any depth', () => {
  it('an OpenAI 401 echoing the key: the chat still answers (offline fallback), and no line holds either key', async () => {
    const fake = await startEchoingOpenAi();
    let text = '';
    const destination = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
    const app = await buildTestApp({
      pool: sdb.pool,
      config: testConfig(sdb.db.url, { OPENAI_API_KEY: KEY }),
      clock: () => FIXED_NOW,
      openai: { baseURL: fake.baseURL },
      logger: { level: 'debug', destination },
    });
    try {
      const url = await listen(app);
      const s = (await postJson(`${url}/router/delegate`, { shop_slug: shop.slug })).body.session_id;
      const res = await postJson(`${url}/chat`, { session_id: s, message: 'a beard trim on Thursday at 1pm' });
      expect(res.status).toBe(200);
    } finally {
      await app.close();
      await fake.close();
    }
    // The upstream error was logged (so the test saw the path that leaked) …
    expect(text).toMatch(/Incorrect API key provided/);
    expect(text).toContain('[Redacted]');
    // … and neither key, nor any part of one long enough to be useful, is in it.
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(FOREIGN);
    expect(text).not.toContain(KEY.slice(8, 30));
    expect(findSecrets(text)).toEqual([]);
  });

  it('every string is masked, in nested objects, arrays and errors, and a record without secrets is passed through as is', () => {
    let text = '';
    const log = createLogger({ level: 'info', secrets: ['hunter2-very-secret'], destination: new Writable({ write(c, _e, d) { text += String(c); d(); } }) });
    const err = Object.assign(new Error('failed with hunter2-very-secret'), { requestID: 'hunter2-very-secret', error: { param: [{ deep: { deeper: `key ${FOREIGN}` } }] } });
    log.error({ err, context: { a: [{ b: 'hunter2-very-secret' }] } }, 'upstream said hunter2-very-secret');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(FOREIGN);
    expect(text.match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
    const clean = { a: { b: ['x', 1, null] } };
    expect(maskRecord(clean, (t) => t)).toBe(clean);
  });

  it('an error whose cause is itself is logged, masked, without throwing', () => {
    let text = '';
    const log = createLogger({ level: 'info', secrets: ['hunter2-very-secret'], destination: new Writable({ write(c, _e, d) { text += String(c); d(); } }) });
    const err = new Error('loop with hunter2-very-secret') as Error & { cause?: unknown };
    err.cause = err;
    expect(() => log.error({ err }, 'a circular cause')).not.toThrow();
    expect(text).toContain('a circular cause');
    // A loop of two: the secret only in the second.
    const a = new Error('outer') as Error & { cause?: unknown };
    const b = new Error('inner hunter2-very-secret') as Error & { cause?: unknown };
    a.cause = b;
    b.cause = a;
    expect(() => log.error({ err: a }, 'a loop of causes')).not.toThrow();
    expect(text).toContain('a loop of causes');
    expect(text).not.toContain('hunter2');
    const plain = new Error('nothing secret') as Error & { cause?: unknown };
    plain.cause = plain;
    expect(maskRecord(plain, (t) => t)).toBe(plain);
  });

  it('the secrets check recognises current OpenAI key forms (sk-proj-, sk-svcacct-, sk-admin- with - and _), not placeholders', () => {
    expect(findSecrets(`OPENAI_API_KEY=${KEY}`).map((f) => f.name)).toEqual(['OpenAI API key']);
    expect(findSecrets(`key: ${FOREIGN}`).map((f) => f.name)).toEqual(['OpenAI API key']);
    expect(findSecrets('sk-admin-' + 'Q1w2E3r4T5y6U7i8O9p0_-AsDfGhJkLzXcVbNm12').map((f) => f.name)).toEqual(['OpenAI API key']); // routergpt:allow-secret
    expect(findSecrets('OPENAI_API_KEY=sk-...')).toEqual([]);
    expect(findSecrets('OPENAI_API_KEY=sk-proj-xxxxxxxx')).toEqual([]);
  });
});
