/** The synthetic marker's signature (src/lib/synthetic.ts): canonical string, ±60 s, tampering. */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { canonicalString, parseSyntheticHeader, signSynthetic, verifySynthetic } from '../../src/lib/synthetic.js';

const KEY = 'k'.repeat(64);
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const BODY = JSON.stringify({ latitude: 33.4255, longitude: -111.94, radius_miles: 10 });
const REQ = { method: 'POST', path: '/router/search-by-location', body: BODY };

describe('synthetic marker', () => {
  it('the canonical string is version, METHOD, path, t, policy and the SHA-256 hex of the body, one per line', () => {
    const sha = createHash('sha256').update(BODY).digest('hex');
    expect(canonicalString('post', '/router/search-by-location', 1764590400, undefined, BODY)).toBe(`routergpt-synthetic/v1\nPOST\n/router/search-by-location\n1764590400\n\n${sha}`);
    expect(canonicalString('GET', '/health', 5, 'real', undefined)).toBe(`routergpt-synthetic/v1\nGET\n/health\n5\nreal\n${createHash('sha256').update('').digest('hex')}`);
  });

  it('the header is t=<seconds>,sig=<hex HMAC-SHA256 of the canonical string>[,policy=real]', () => {
    const header = signSynthetic(KEY, REQ, NOW);
    const t = NOW / 1000;
    const sig = createHmac('sha256', KEY).update(canonicalString('POST', REQ.path, t, undefined, BODY)).digest('hex');
    expect(header).toBe(`t=${t},sig=${sig}`);
    expect(signSynthetic(KEY, { ...REQ, policy: 'real' }, NOW)).toMatch(/^t=\d+,sig=[0-9a-f]{64},policy=real$/);
    expect(parseSyntheticHeader(header)).toEqual({ t, sig });
  });

  it('accepts a signature within ±60 s and refuses one outside as stale', () => {
    const header = signSynthetic(KEY, REQ, NOW);
    for (const skew of [-60_000, 0, 60_000]) expect(verifySynthetic(header, { ...REQ, key: KEY, nowMs: NOW + skew })).toEqual({ valid: true });
    for (const skew of [-61_000, 61_000, 3_600_000]) expect(verifySynthetic(header, { ...REQ, key: KEY, nowMs: NOW + skew })).toEqual({ valid: false, reason: 'stale' });
  });

  it('a changed body, path, method, t, policy or key is a bad signature', () => {
    const header = signSynthetic(KEY, REQ, NOW);
    const at = { key: KEY, nowMs: NOW };
    expect(verifySynthetic(header, { ...REQ, ...at, body: BODY.replace('33.4255', '33.4256') })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(header, { ...REQ, ...at, path: '/router/delegate' })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(header, { ...REQ, ...at, method: 'PUT' })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(header, { ...REQ, ...at, key: 'x'.repeat(64) })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(header.replace(/^t=(\d+)/, (_m, t: string) => `t=${Number(t) + 1}`), { ...REQ, ...at })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(`${header},policy=real`, { ...REQ, ...at })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySynthetic(signSynthetic(KEY, { ...REQ, policy: 'real' }, NOW), { ...REQ, ...at })).toEqual({ valid: true, policy: 'real' });
  });

  it('absent, malformed or keyless markers are ordinary traffic, never an error', () => {
    const at = { ...REQ, key: KEY, nowMs: NOW };
    expect(verifySynthetic(undefined, at)).toEqual({ valid: false, reason: 'missing' });
    for (const bad of ['', 'yes', 't=abc,sig=00', `t=1,sig=${'g'.repeat(64)}`, `t=1,sig=${'0'.repeat(64)},policy=fast`, `t=1,t=2,sig=${'0'.repeat(64)}`, `sig=${'0'.repeat(64)}`, 'x'.repeat(500)]) {
      expect(verifySynthetic(bad, at)).toEqual({ valid: false, reason: 'malformed' });
    }
    expect(verifySynthetic(signSynthetic(KEY, REQ, NOW), { ...at, key: undefined })).toEqual({ valid: false, reason: 'no-key' });
  });

  it('a ROUTERGPT_SYNTHETIC_KEY shorter than 32 characters is a configuration error naming the variable and the fix; the key is never shown', () => {
    const attempt = () => loadConfig({ flags: { env: 'local' }, cwd: tmpdir(), env: { ROUTERGPT_SYNTHETIC_KEY: 'short-secret-key' } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('ROUTERGPT_SYNTHETIC_KEY must be at least 32 characters (got 16); unset it to use the key migration 010 generated.');
    expect(() => attempt()).not.toThrow(/short-secret-key/);
    expect(loadConfig({ flags: { env: 'local' }, cwd: tmpdir(), env: { ROUTERGPT_SYNTHETIC_KEY: KEY } }).config.syntheticKey).toMatchObject({ value: KEY, source: 'env' });
  });
});
