import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ipKey, ipv6Prefix64 } from '../../src/server/plugins/rate-limit/client-key.js';

const key = (ip: string) => ipKey({ ip } as FastifyRequest);

describe('rate-limit client keys', () => {
  it('IPv6 clients are keyed by their /64: rotating addresses inside it does not buy a new budget', () => {
    expect(key('2001:db8:abcd:12:1::1')).toBe(key('2001:0db8:abcd:0012:ffff:ffff:ffff:fffe'));
    expect(key('2001:db8:abcd:12::5')).toBe('ip:2001:db8:abcd:12::/64');
    expect(key('2001:db8:abcd:13::5')).not.toBe(key('2001:db8:abcd:12::5'));
    expect(ipv6Prefix64('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipv6Prefix64('::1')).toBe('0:0:0:0::/64');
    expect(ipv6Prefix64('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
  });

  it('IPv4 (and IPv4-mapped IPv6) keep one key per address', () => {
    expect(key('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(key('::ffff:203.0.113.7')).toBe('ip:203.0.113.7');
    expect(key('203.0.113.8')).not.toBe(key('203.0.113.7'));
  });

  it('regression: every spelling of one address is one key (a new port, zero or bracket per request bought a fresh budget)', () => {
    const v4 = ['203.0.113.7', '::ffff:203.0.113.7', '::FFFF:203.0.113.7', '203.000.113.007', '203.0.113.7:5678', '203.0.113.7:1', '[203.0.113.7]', '[203.0.113.7]:443', '203.0.113.7.', ' 203.0.113.7 ', '::ffff:cb00:7107', '[::ffff:203.0.113.7]:80', '0:0:0:0:0:ffff:203.0.113.7'];
    expect(new Set(v4.map(key))).toEqual(new Set(['ip:203.0.113.7']));
    const v6 = ['2001:db8:abcd:12::5', '2001:DB8:ABCD:12::5', '[2001:db8:abcd:12::5]:443', '2001:db8:abcd:12::5%eth0', '2001:0db8:abcd:0012:0:0:0:5', '[2001:db8:abcd:12::9]'];
    expect(new Set(v6.map(key))).toEqual(new Set(['ip:2001:db8:abcd:12::/64']));
  });

  it('a forwarded value that is not an address falls back to the socket address (the proxy), never a budget of its own', () => {
    const withSocket = (ip: string) => ipKey({ ip, socket: { remoteAddress: '::ffff:10.0.0.1' } } as unknown as FastifyRequest);
    for (const junk of ['not:an:address::x::y', '256.1.1.1', '1.2.3', 'evil.example', '', '[1.2.3.4', '::g']) expect(withSocket(junk), junk).toBe('ip:10.0.0.1');
    expect(key('garbage')).toBe('ip:unknown');
  });
});
