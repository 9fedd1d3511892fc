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

  it('something that is not an address is kept as it is', () => {
    expect(key('not:an:address::x::y')).toBe('ip:not:an:address::x::y');
  });
});
