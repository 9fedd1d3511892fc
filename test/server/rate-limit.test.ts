import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryStore, type RateLimitDecision, type RateLimitPolicy } from '../../src/server/plugins/rate-limit/index.js';
import { RedisStore } from '../../src/server/plugins/rate-limit/redis-store.js';
import { buildEdgeTestApp, edgeConfig } from './edge-test-app.js';

const T0 = 1_700_000_000_000;
const SEARCH = '/router/search-by-location';
const goodBody = { latitude: 33.42, longitude: -111.94 };

function fakeClock(start = T0) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

const apps: FastifyInstance[] = [];
async function app(...args: Parameters<typeof buildEdgeTestApp>): Promise<FastifyInstance> {
  const a = await buildEdgeTestApp(...args);
  apps.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function search(a: FastifyInstance, remoteAddress = '203.0.113.7', body: unknown = goodBody) {
  return a.inject({ method: 'POST', url: SEARCH, payload: body as object, remoteAddress });
}

/** Every rolling window of `windowMs` holds at most `limit` of the given sorted times. */
function maxInAnyWindow(times: number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

const RL_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit', 'ratelimit-policy'];

describe('sliding log, in memory (fake clock)', () => {
  it('admits exactly 20 per rolling 60 s on search and frees slots as the oldest ones age out', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig(), { rateLimit: { now: clock.now } });
    for (let i = 0; i < 10; i++) expect((await search(a)).statusCode).toBe(200);
    clock.t = T0 + 30_000;
    for (let i = 0; i < 10; i++) expect((await search(a)).statusCode).toBe(200);

    const refused = await search(a);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('search') } });

    clock.t = T0 + 59_999;
    const stillRefused = await search(a);
    expect(stillRefused.statusCode).toBe(429);
    expect(stillRefused.headers['retry-after']).toBe('1');

    clock.t = T0 + 60_000; // the ten from t=0 leave the window (t − 60 s is excluded)
    const admitted = await search(a);
    expect(admitted.statusCode).toBe(200);
    expect(admitted.headers['x-ratelimit-remaining']).toBe('9');
    expect(admitted.headers['x-ratelimit-reset']).toBe('30');
    for (let i = 0; i < 9; i++) expect((await search(a)).statusCode).toBe(200);
    expect((await search(a)).statusCode).toBe(429);
  });

  it('regression: no 2× burst across a minute boundary, as a fixed window would allow', async () => {
    const clock = fakeClock(T0 + 59_000);
    const a = await app(edgeConfig(), { rateLimit: { now: clock.now } });
    for (let i = 0; i < 20; i++) expect((await search(a)).statusCode).toBe(200);
    clock.t = T0 + 61_000; // a new fixed window would have started at T0 + 60 s
    const r = await search(a);
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('58');
  });

  it('regression: each policy has its own log per client (delegate calls do not spend the search budget)', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ RATE_LIMIT_SEARCH_PER_MIN: '2' }), { rateLimit: { now: clock.now } });
    for (let i = 0; i < 5; i++) await a.inject({ method: 'POST', url: '/router/delegate', payload: {} });
    await a.inject({ method: 'GET', url: '/health' });
    expect((await a.inject({ method: 'POST', url: SEARCH, payload: goodBody })).headers['x-ratelimit-remaining']).toBe('1');
  });

  it('delegate has its own budget of 10 (from config), search its own', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ RATE_LIMIT_DELEGATE_PER_MIN: '10' }), { rateLimit: { now: clock.now } });
    for (let i = 0; i < 10; i++) expect((await a.inject({ method: 'POST', url: '/router/delegate', payload: {} })).statusCode).toBe(201);
    const r = await a.inject({ method: 'POST', url: '/router/delegate', payload: {} });
    expect(r.statusCode).toBe(429);
    expect(r.headers['ratelimit-policy']).toBe('"delegate";q=10;w=60');
    expect((await a.inject({ method: 'POST', url: SEARCH, payload: goodBody })).statusCode).toBe(200);
  });

  it('puts the headers on every response: 200, 201, 404, 422, 500 and 429', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ RATE_LIMIT_SEARCH_PER_MIN: '3' }), { rateLimit: { now: clock.now } });
    const responses = {
      health: await a.inject({ method: 'GET', url: '/health' }),
      delegate: await a.inject({ method: 'POST', url: '/router/delegate', payload: {} }),
      notFound: await a.inject({ method: 'GET', url: '/nope' }),
      wrongMethod: await a.inject({ method: 'GET', url: SEARCH }),
      invalid: await search(a, undefined, { latitude: 999, longitude: 0 }),
      malformed: await a.inject({ method: 'POST', url: SEARCH, remoteAddress: '203.0.113.7', headers: { 'content-type': 'application/json' }, payload: '{"latitude":' }),
      crash: await a.inject({ method: 'GET', url: '/boom' }),
      ok: await search(a),
      limited: await search(a),
    };
    expect(Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.statusCode]))).toEqual({
      health: 200, delegate: 201, notFound: 404, wrongMethod: 404, invalid: 422, malformed: 400, crash: 500, ok: 200, limited: 429,
    });
    for (const [name, r] of Object.entries(responses)) {
      for (const h of RL_HEADERS) expect(r.headers[h], `${name} lacks ${h}`).toBeDefined();
    }
    // /health has its own high budget, for probes (issue 16), and still the headers.
    expect(responses.health.headers['ratelimit-policy']).toBe('"health";q=6000;w=60');
    expect(responses.notFound.headers['ratelimit-policy']).toBe('"default";q=600;w=60');
    expect(responses.invalid.headers['ratelimit-policy']).toBe('"search";q=3;w=60');
    // invalid, malformed and ok were counted: the search budget of 3 is spent, so the 4th is refused.
    expect(responses.limited.headers).toMatchObject({ 'retry-after': '60', 'x-ratelimit-remaining': '0', ratelimit: '"search";r=0;t=60' });
    expect(responses.ok.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', ratelimit: '"search";r=0;t=60' });
    expect(responses.health.headers.ratelimit).toMatch(/^"health";r=\d+;t=\d+$/);
  });

  it('keys by the peer address: X-Forwarded-For from an untrusted peer does not change the key', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ TRUSTED_PROXIES: '10.0.0.1', RATE_LIMIT_SEARCH_PER_MIN: '2' }), { rateLimit: { now: clock.now } });
    const spoofed = (xff: string) => a.inject({ method: 'POST', url: SEARCH, payload: goodBody, remoteAddress: '198.51.100.9', headers: { 'x-forwarded-for': xff } });
    expect((await spoofed('1.1.1.1')).statusCode).toBe(200);
    expect((await spoofed('2.2.2.2')).statusCode).toBe(200);
    expect((await spoofed('3.3.3.3')).statusCode).toBe(429);
    // Through the trusted proxy, the forwarded client address is the key.
    const proxied = (xff: string) => a.inject({ method: 'POST', url: SEARCH, payload: goodBody, remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': xff } });
    expect((await proxied('1.1.1.1')).statusCode).toBe(200);
    expect((await proxied('1.1.1.1')).statusCode).toBe(200);
    expect((await proxied('1.1.1.1')).statusCode).toBe(429);
    expect((await proxied('2.2.2.2')).statusCode).toBe(200);
  });

  it('regression: behind a trusted proxy, a new spelling of the client address per request (port, zeros, brackets, ::ffff:) buys no fresh budget', async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ TRUSTED_PROXIES: '10.0.0.1', RATE_LIMIT_SEARCH_PER_MIN: '2' }), { rateLimit: { now: clock.now } });
    const proxied = (xff: string) => a.inject({ method: 'POST', url: SEARCH, payload: goodBody, remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': xff } });
    const spellings = ['203.0.113.7:40001', '203.0.113.7:40002', '[203.0.113.7]:40003', '203.000.113.007', '::ffff:203.0.113.7', '203.0.113.7.', '[::FFFF:203.0.113.7]'];
    const statuses = [];
    for (const xff of spellings) statuses.push((await proxied(xff)).statusCode);
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429]);
    // Garbage in the header is the proxy's budget, not a new one per request.
    const junk = [];
    for (const xff of ['not-an-ip-1', 'not-an-ip-2', 'not-an-ip-3']) junk.push((await proxied(xff)).statusCode);
    expect(junk).toEqual([200, 200, 429]);
  });

  it("keyBy 'openai-user' honours openai-ephemeral-user-id only on requests bearing the API key", async () => {
    const clock = fakeClock();
    const a = await app(edgeConfig({ ROUTERGPT_API_KEY: 'test-key-123456', RATE_LIMIT_SEARCH_PER_MIN: '1' }), { rateLimit: { now: clock.now, keyBy: 'openai-user' } });
    const call = (user: string, auth?: string) =>
      a.inject({ method: 'POST', url: SEARCH, payload: goodBody, remoteAddress: '20.97.188.145', headers: { 'openai-ephemeral-user-id': user, ...(auth ? { authorization: auth } : {}) } });
    // Same egress IP, two GPT users with the key: separate budgets.
    expect((await call('user-a', 'Bearer test-key-123456')).statusCode).toBe(200);
    expect((await call('user-b', 'Bearer test-key-123456')).statusCode).toBe(200);
    expect((await call('user-a', 'Bearer test-key-123456')).statusCode).toBe(429);
    // Without the key the header is ignored: both forged ids count against the one IP budget
    // (auth refuses them first, but the budget they spend is the IP's).
    const c = await call('user-c');
    expect(c.statusCode).toBe(401);
    expect(c.headers['x-ratelimit-remaining']).toBe('0');
    const d = await call('user-d');
    expect(d.statusCode).toBe(401);
    expect(d.headers['retry-after']).toBe('60');
  });

  it('property: never more than the limit in any window, and never refuses when a slot is free', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 120 }),
        (limit, windowMs, raw) => {
          const store = new MemoryStore();
          const policy: RateLimitPolicy = { name: 'p', limit, windowMs };
          const times = [...raw].sort((x, y) => x - y);
          const admitted: number[] = [];
          for (const t of times) {
            const d = store.hitSync('k', policy, t);
            const inWindow = admitted.filter((x) => x > t - windowMs).length;
            expect(d.allowed).toBe(inWindow < limit);
            if (d.allowed) admitted.push(t);
            expect(d.remaining).toBe(limit - Math.min(limit, inWindow + (d.allowed ? 1 : 0)));
            if (!d.allowed) expect(d.resetMs).toBeGreaterThan(0);
          }
          expect(maxInAnyWindow(admitted, windowMs)).toBeLessThanOrEqual(limit);
          void store.close();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('bounds memory: idle logs are swept and the key count is capped', async () => {
    const store = new MemoryStore({ maxKeys: 100 });
    const policy: RateLimitPolicy = { name: 'p', limit: 5, windowMs: 1000 };
    for (let i = 0; i < 1000; i++) store.hitSync(`client-${i}`, policy, T0 + i);
    expect(store.size).toBeLessThanOrEqual(100);
    store.sweep(T0 + 1000 + 1000);
    expect(store.size).toBe(0);
    await store.close();
  });

  it('issue 16: a large window is trimmed by a head index (no splice per hit) — exact, and the log holds at most twice its live admissions', () => {
    const store = new MemoryStore();
    const policy: RateLimitPolicy = { name: 'big', limit: 3000, windowMs: 2000 };
    const admitted: number[] = [];
    const wrong: string[] = [];
    let start = 0;
    let longest = 0;
    // 3 arrivals per ms for 6 windows: the limit binds in every window, slots free as the oldest age out.
    for (let i = 0; i < 36_000; i++) {
      const t = T0 + Math.floor(i / 3);
      const { decision, log } = store.reserve('k', policy, t);
      while (start < admitted.length && admitted[start]! <= t - policy.windowMs) start++;
      const allowed = admitted.length - start < policy.limit;
      if (allowed) admitted.push(t);
      const held = admitted.length - start;
      const resetMs = held > 0 ? admitted[start]! + policy.windowMs - t : 0;
      if (decision.allowed !== allowed || decision.remaining !== policy.limit - held || decision.resetMs !== resetMs || log.times.length - log.head !== held) wrong.push(`#${i}`);
      longest = Math.max(longest, log.times.length - 2 * held);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(longest).toBeLessThanOrEqual(1);
    expect(maxInAnyWindow(admitted, policy.windowMs)).toBeLessThanOrEqual(policy.limit);
    expect(admitted.length).toBeGreaterThan(5 * policy.limit);
    void store.close();
  });

  it('issue 16: /health has its own high-limit policy — probes spend no shared budget, and keep the headers', async () => {
    const a = await app(edgeConfig(), { rateLimit: { now: fakeClock().now, fallbackPerMinute: 2, healthPerMinute: 3 } });
    expect((await a.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(429);
    for (let i = 0; i < 3; i++) {
      const r = await a.inject({ method: 'GET', url: '/health' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['ratelimit-policy']).toBe('"health";q=3;w=60');
      expect(r.headers.ratelimit).toBe(`"health";r=${2 - i};t=60`);
      for (const h of RL_HEADERS) expect(r.headers[h]).toBeDefined();
    }
    expect((await a.inject({ method: 'GET', url: '/health' })).statusCode).toBe(429);
    // Without an override it is 6000, and never below the shared policy's limit.
    const b = await app(edgeConfig(), { rateLimit: { fallbackPerMinute: 100_000 } });
    expect((await b.inject({ method: 'GET', url: '/health' })).headers['ratelimit-policy']).toBe('"health";q=100000;w=60');
  });
});

describe('sliding log in Redis', () => {
  const redisUrl = inject('redisUrl');
  let admin: Redis;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = `routergpt-test:${randomBytes(4).toString('hex')}:`;
    prefixes.push(p);
    return p;
  };

  beforeAll(async () => {
    admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  });
  afterAll(async () => {
    for (const p of prefixes) {
      const keys = await admin.keys(`${p}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  it('decides exactly like the in-memory log on the same arrivals (Lua script, fake clock)', async () => {
    const fallback = new MemoryStore();
    const store = new RedisStore({ redis: redisUrl, keyPrefix: newPrefix(), fallback });
    await store.waitReady(2000);
    expect(store.status()).toEqual({ store: 'redis', redis: 'ok' });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 500 }),
          fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 40 }),
          async (limit, windowMs, raw) => {
            const memory = new MemoryStore();
            const policy: RateLimitPolicy = { name: `p${randomBytes(3).toString('hex')}`, limit, windowMs };
            for (const t of [...raw].sort((x, y) => x - y)) {
              const fromRedis = await store.hit('client', policy, T0 + t);
              const fromMemory = memory.hitSync('client', policy, T0 + t);
              const strip = (d: RateLimitDecision) => ({ allowed: d.allowed, remaining: d.remaining, resetMs: d.resetMs });
              expect(fromRedis.store).toBe('redis');
              expect(strip(fromRedis)).toEqual(strip(fromMemory));
            }
            await memory.close();
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await store.close();
      await fallback.close();
    }
  });

  it('keys routergpt:rl:{policy}:{client} with a TTL of one window', async () => {
    const store = new RedisStore({ redis: redisUrl, fallback: new MemoryStore() });
    await store.waitReady(2000);
    const client = `ip:test-${randomBytes(4).toString('hex')}`;
    try {
      await store.hit(client, { name: 'search', limit: 20, windowMs: 60_000 }, undefined);
      const key = `routergpt:rl:search:${client}`;
      expect(await admin.zcard(key)).toBe(1);
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      await admin.del(key);
    } finally {
      await store.close();
    }
  });

  it('two real servers sharing one Redis never admit more than 20 searches per client in any rolling window', async () => {
    const windowMs = 2000; // the window is configurable, so real time can be used honestly
    const keyPrefix = newPrefix();
    const config = edgeConfig({ REDIS_URL: redisUrl, RATE_LIMIT_SEARCH_PER_MIN: '20' });
    const servers = [await app(config, { rateLimit: { windowMs, keyPrefix } }), await app(config, { rateLimit: { windowMs, keyPrefix } })];
    const urls = await Promise.all(servers.map((s) => s.listen({ port: 0, host: '127.0.0.1' })));
    for (const s of servers) expect(s.rateLimitStatus()).toEqual({ store: 'redis', redis: 'ok' });

    const admitted: Array<{ sent: number; received: number; server: number }> = [];
    let refused = 0;
    const deadline = performance.now() + 5000;
    await Promise.all(
      Array.from({ length: 6 }, async (_, worker) => {
        let n = worker;
        while (performance.now() < deadline) {
          const server = n++ % 2;
          const sent = performance.now();
          const res = await request(`${urls[server]}${SEARCH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(goodBody) });
          const received = performance.now();
          await res.body.dump();
          if (res.statusCode === 200) admitted.push({ sent, received, server });
          else {
            expect(res.statusCode).toBe(429);
            expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
            refused++;
          }
          await sleep(3);
        }
      }),
    );

    // A request admitted at Redis time T was admitted somewhere in [sent, received]. Any set of
    // requests whose whole intervals fit in one window were admitted inside that window, so
    // there can be at most 20 such. (2 ms slack for Redis TIME's millisecond flooring.)
    admitted.sort((x, y) => x.sent - y.sent);
    for (const first of admitted) {
      const inside = admitted.filter((r) => r.sent >= first.sent && r.received < first.sent + windowMs - 2).length;
      expect(inside).toBeLessThanOrEqual(20);
    }
    // And the budget is really used: about 20 per window over ~5 s, from both servers.
    expect(admitted.length).toBeGreaterThanOrEqual(40);
    expect(admitted.length).toBeLessThanOrEqual(60);
    expect(new Set(admitted.map((r) => r.server)).size).toBe(2);
    expect(refused).toBeGreaterThan(0);
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function logLines(stream: PassThrough): () => Array<{ level: number; msg: string }> {
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return () => lines.map((l) => JSON.parse(l) as { level: number; msg: string });
}

describe('Redis lifecycle', () => {
  it('regression: closing the app quits Redis without logging an outage', async () => {
    const stream = new PassThrough();
    const logs = logLines(stream);
    const keyPrefix = `routergpt-test:${randomBytes(4).toString('hex')}:`;
    const a = await buildEdgeTestApp(edgeConfig({ REDIS_URL: inject('redisUrl') }), { rateLimit: { keyPrefix } }, stream);
    expect(a.rateLimitStatus().redis).toBe('ok');
    expect((await search(a)).statusCode).toBe(200);
    await a.close();
    await sleep(50);
    expect(logs().filter((l) => l.level >= 40)).toEqual([]);
    const admin = new Redis(inject('redisUrl'));
    const keys = await admin.keys(`${keyPrefix}*`);
    expect(keys).toHaveLength(1);
    await admin.del(...keys);
    await admin.quit();
  });
});

describe('Redis unreachable', () => {
  it('serves every request (limits fall back to this server), reports unreachable, logs once per interval', async () => {
    const port = await freePort();
    const stream = new PassThrough();
    const logs = logLines(stream);
    const clock = fakeClock();
    const a = await app(edgeConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_SEARCH_PER_MIN: '20' }), { rateLimit: { now: clock.now, connectTimeoutMs: 300 } }, stream);
    const started = performance.now();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await search(a)).statusCode);
    expect(performance.now() - started).toBeLessThan(2000); // nothing waits on the dead Redis
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses[20]).toBe(429); // still limited, by this server alone
    const health = await a.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json().rate_limits).toMatchObject({ store: 'redis', redis: 'unreachable', lastError: expect.any(String) });
    await sleep(700); // several reconnect attempts fail meanwhile
    const errors = logs().filter((l) => l.level >= 50 && l.msg.includes('[ROUTER]') && l.msg.includes('Redis unreachable'));
    expect(errors).toHaveLength(1);
  });

  it('recovers by itself when Redis comes back, and shares budgets again', async () => {
    const port = await freePort();
    const startRedis = async (): Promise<ChildProcess> => {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      for (let i = 0; i < 100; i++) {
        try {
          await probe.connect();
          break;
        } catch {
          await sleep(50);
        }
      }
      probe.disconnect();
      return child;
    };
    const stop = async (child: ChildProcess) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    let redis = await startRedis();
    try {
      const a = await app(edgeConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }), { rateLimit: { connectTimeoutMs: 1000 } });
      expect((await search(a)).statusCode).toBe(200);
      expect(a.rateLimitStatus().redis).toBe('ok');

      await stop(redis);
      expect((await search(a)).statusCode).toBe(200);
      expect(a.rateLimitStatus().redis).toBe('unreachable');

      redis = await startRedis();
      for (let i = 0; i < 60 && a.rateLimitStatus().redis !== 'ok'; i++) await sleep(100);
      expect(a.rateLimitStatus()).toEqual({ store: 'redis', redis: 'ok' });
      const r = await search(a);
      expect(r.statusCode).toBe(200);
      const check = new Redis(port, '127.0.0.1');
      expect(await check.keys('routergpt:rl:search:*')).toHaveLength(1);
      await check.quit();
    } finally {
      await stop(redis);
    }
  });
});

describe('A7: rate limits across a Redis outage (fake clock, a throwaway redis-server)', () => {
  const policy: RateLimitPolicy = { name: 'search', limit: 20, windowMs: 60_000 };
  let port: number;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        break;
      } catch {
        await sleep(50);
      }
    }
    probe.disconnect();
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  };
  afterEach(stop);

  /** One server's store: its own memory log, the shared Redis. */
  const server = () => new RedisStore({ redis: `redis://127.0.0.1:${port}`, fallback: new MemoryStore(), connectTimeoutMs: 500 });
  const hits = async (store: RedisStore, n: number, t: number) => {
    const out: RateLimitDecision[] = [];
    for (let i = 0; i < n; i++) out.push(await store.hit('ip:203.0.113.7', policy, t));
    return out;
  };
  const admitted = (ds: RateLimitDecision[]) => ds.filter((d) => d.allowed).length;

  it('the fallback continues the window Redis was keeping, and a restarted (empty) Redis forgets none of it', async () => {
    port = await freePort();
    await start();
    const a = server();
    const b = server();
    try {
      await Promise.all([a.waitReady(2000), b.waitReady(2000)]);
      expect(admitted(await hits(a, 10, T0))).toBe(10);
      expect(admitted(await hits(b, 5, T0))).toBe(5);

      await stop();
      // The same window, Redis gone: a has used 10 of its 20, b 5. Before the fix the fallback
      // started empty: a admitted 20 more here.
      const during = await hits(a, 15, T0 + 1000);
      expect(a.status().redis).toBe('unreachable');
      expect(during.map((d) => d.store)).toEqual(Array(15).fill('memory'));
      expect(admitted(during)).toBe(10);
      expect(admitted(await hits(b, 20, T0 + 1000))).toBe(15);

      await start();
      for (let i = 0; i < 60 && (a.status().redis !== 'ok' || b.status().redis !== 'ok'); i++) await sleep(50);
      expect([a.status().redis, b.status().redis]).toEqual(['ok', 'ok']);
      // Redis came back empty. Each server still holds its 20 of this window, so neither is handed
      // a fresh budget; and Redis learns what they admitted while it was away.
      const afterA = await hits(a, 3, T0 + 2000);
      expect(afterA.map((d) => [d.allowed, d.store])).toEqual(Array(3).fill([false, 'redis']));
      expect(admitted(await hits(b, 3, T0 + 2000))).toBe(0);
      const check = new Redis(port, '127.0.0.1');
      expect(await check.zcard('routergpt:rl:search:ip:203.0.113.7')).toBe(25); // a's 10 and b's 15 from the outage
      await check.quit();
      // A third server (no memory of its own) sees the shared budget: 25 ≥ 20, refused.
      const c = server();
      await c.waitReady(2000);
      expect((await c.hit('ip:203.0.113.7', policy, T0 + 2000)).allowed).toBe(false);
      await c.close();
      // The whole window: 15 + 10 + 15 admissions = 40 = servers × limit, never more.
      // Once the window has passed, the budget is shared again.
      expect(admitted(await hits(a, 15, T0 + 61_001))).toBe(15);
      expect(admitted(await hits(b, 10, T0 + 61_001))).toBe(5);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('what a server admitted alone waits for Redis in the window only: never more than the limit, however long the outage', () => {
    const memory = new MemoryStore();
    const p: RateLimitPolicy = { name: 'p', limit: 5, windowMs: 1000 };
    for (let t = 0; t < 100_000; t += 10) {
      const r = memory.reserve('k', p, T0 + t);
      if (r.decision.allowed) memory.markUnsynced(r);
      expect(r.log.unsynced?.length ?? 0).toBeLessThanOrEqual(p.limit);
    }
    // Admitted at k·1000 + 0, 10, 20, 30, 40 ms; a window later only the two newest are still inside.
    const last = memory.reserve('k', p, T0 + 100_020);
    expect(memory.takeUnsynced(last)).toEqual([T0 + 99_030, T0 + 99_040]);
    expect(memory.takeUnsynced(last)).toBeUndefined();
    void memory.close();
  });

  it('a failed command opens the breaker: Redis is skipped for breakerMs, then one request probes it', async () => {
    port = await freePort();
    await start();
    const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, fallback: new MemoryStore(), commandTimeoutMs: 100, breakerMs: 600 });
    try {
      await store.waitReady(2000);
      child!.kill('SIGSTOP');
      const timed = async () => {
        const t = performance.now();
        const d = await store.hit('ip:198.51.100.1', { ...policy, limit: 1000 }, undefined);
        return { ms: performance.now() - t, store: d.store, allowed: d.allowed };
      };
      const first = await timed();
      expect(first).toMatchObject({ store: 'memory', allowed: true });
      expect(first.ms).toBeGreaterThanOrEqual(99);
      const skipped = [];
      for (let i = 0; i < 20; i++) skipped.push(await timed());
      expect(Math.max(...skipped.map((s) => s.ms))).toBeLessThan(50);
      await sleep(650);
      // Half-open: one probe waits the timeout, requests meanwhile do not.
      const [probe, ...others] = await Promise.all([timed(), timed(), timed()]);
      expect(probe!.ms).toBeGreaterThanOrEqual(99);
      for (const o of others) expect(o.ms).toBeLessThan(50);
      child!.kill('SIGCONT');
      await sleep(650);
      const back = await timed();
      expect(back.store).toBe('redis');
      expect(store.status()).toEqual({ store: 'redis', redis: 'ok' });
    } finally {
      child?.kill('SIGCONT');
      await store.close();
    }
  });
});
