/**
 * The OpenAI assistant through the real `openai` client against a loopback fake that speaks
 * the chat-completions wire format: tool calls → our tools → a booking in PostgreSQL.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

interface FakeRequest {
  headers: http.IncomingHttpHeaders;
  body: { model: string; messages: Array<{ role: string; content?: string | null; tool_call_id?: string }>; tools?: Array<{ function: { name: string } }> };
}

/** A fake OpenAI: answers each POST /v1/chat/completions with the next scripted message. */
async function startFakeOpenAi(script: Array<(req: FakeRequest) => unknown>, delayMs = 0) {
  const requests: FakeRequest[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const parsed: FakeRequest = { headers: req.headers, body: JSON.parse(data) };
      requests.push(parsed);
      const step = script[requests.length - 1];
      const message = step ? step(parsed) : { role: 'assistant', content: 'script exhausted' };
      const send = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: 1, model: parsed.body.model, choices: [{ index: 0, finish_reason: 'stop', message }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const toolCall = (id: string, name: string, args: unknown) => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] });

let sdb: ServerDb;
let shop: TestShop;
beforeAll(async () => {
  sdb = await createServerDb('openai');
  shop = await insertTestShop(sdb.pool);
});
afterAll(async () => {
  await sdb?.close();
});

describe('OpenAI assistant', () => {
  it('list_services → create_booking tool calls book through our tools, and the reply carries the booking', async () => {
    const fake = await startFakeOpenAi([
      () => toolCall('call_1', 'list_services', {}),
      () => toolCall('call_2', 'create_booking', { service_id: shop.services.haircut, start_local: '2030-03-05T15:00', customer_name: 'Robin' }),
      () => ({ role: 'assistant', content: 'Done! Classic Haircut tomorrow at 3:00 PM.' }),
    ]);
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { OPENAI_API_KEY: 'sk-fake-key-for-tests' }), clock: () => FIXED_NOW, openai: { baseURL: fake.baseURL } });
    try {
      const url = await listen(app);
      const s = (await postJson(`${url}/router/delegate`, { shop_slug: shop.slug, intent: 'haircut' })).body.session_id;
      const res = await postJson(`${url}/chat`, { session_id: s, message: 'Can I get a haircut tomorrow at 3?' });
      expect(res.status).toBe(200);
      expect(res.body.reply).toBe('Done! Classic Haircut tomorrow at 3:00 PM.');
      expect(res.body.booking).toMatchObject({ service: 'Classic Haircut', starts_at: '2030-03-05T22:00:00.000Z', customer_name: 'Robin' });
      // The real client sent our key, tools and the tool results back.
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-fake-key-for-tests');
      expect(fake.requests[0]!.body.tools!.map((t) => t.function.name)).toEqual(['list_services', 'check_availability', 'create_booking']);
      expect(fake.requests[0]!.body.messages[0]!.content).toMatch(/Test Barber[\s\S]*2030-03-04T10:00[\s\S]*"haircut"/);
      const toolResult = fake.requests[2]!.body.messages.find((m) => m.role === 'tool' && m.tool_call_id === 'call_2');
      expect(JSON.parse(toolResult!.content!)).toMatchObject({ booked: true });
      const { rows } = await sdb.pool.query('SELECT count(*)::int AS n FROM bookings WHERE session_id = $1', [s]);
      expect(rows[0].n).toBe(1);
    } finally {
      await app.close();
      await fake.close();
    }
  });

  it('a taken time comes back to the model as alternatives', async () => {
    const fake = await startFakeOpenAi([
      () => toolCall('c1', 'check_availability', { service_id: shop.services.haircut, start_local: '2030-03-05T15:00' }),
      (req) => ({ role: 'assistant', content: `tool said: ${req.body.messages.at(-1)!.content}` }),
    ]);
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { OPENAI_API_KEY: 'sk-fake-key-for-tests' }), clock: () => FIXED_NOW, openai: { baseURL: fake.baseURL } });
    try {
      const url = await listen(app);
      const s = (await postJson(`${url}/router/delegate`, { shop_slug: shop.slug })).body.session_id;
      const res = await postJson(`${url}/chat`, { session_id: s, message: 'haircut tomorrow 3pm?' });
      const said = JSON.parse(res.body.reply.replace('tool said: ', ''));
      expect(said).toMatchObject({ available: false, reason: 'taken' });
      expect(said.alternatives[0]).toMatch(/^2030-03-05T15:30$/);
    } finally {
      await app.close();
      await fake.close();
    }
  });

  it('openai-timeout: a slow API falls back to the offline assistant, which still answers', async () => {
    const fake = await startFakeOpenAi([() => ({ role: 'assistant', content: 'too late' })], 3000);
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { OPENAI_API_KEY: 'sk-fake-key-for-tests' }), clock: () => FIXED_NOW, openai: { baseURL: fake.baseURL, timeoutMs: 200 } });
    try {
      const url = await listen(app);
      const s = (await postJson(`${url}/router/delegate`, { shop_slug: shop.slug })).body.session_id;
      const res = await postJson(`${url}/chat`, { session_id: s, message: "a beard trim on Thursday at 1pm, I'm Sam" });
      expect(res.status).toBe(200);
      expect(res.body.reply).not.toBe('too late');
      expect(res.body.booking).toMatchObject({ service: 'Beard Trim', customer_name: 'Sam' });
    } finally {
      await app.close();
      await fake.close();
    }
  });
});
