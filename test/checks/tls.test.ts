/**
 * tls.certificate against real HTTPS servers on loopback, with certificates made in the test by
 * openssl: a throwaway CA, a valid leaf for 127.0.0.1/localhost, an expired one, one expiring
 * in 10 days, one expiring in 3 days, and one for another host.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tlsCertificate from '../../src/checks/tls/certificate.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { checkConfig, depsFor, runCheck } from './helpers.js';

const dir = tempDir('routergpt-tls-');
const file = (name: string) => path.join(dir, name);

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

/** A leaf signed by the test CA: `days` may be negative (already expired). */
async function leaf(name: string, days: number, names: string): Promise<{ key: string; cert: string }> {
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(file(`${name}.ext`), `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', String(days), '-sha256', '-extfile', `${name}.ext`]);
  return { key: readFileSync(file(`${name}.key`), 'utf8'), cert: readFileSync(file(`${name}.pem`), 'utf8') };
}

const servers: https.Server[] = [];

async function serve(pair: { key: string; cert: string }): Promise<string> {
  const server = https.createServer(pair, (_req, res) => res.end('{"ok":true}'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('tls.certificate on loopback HTTPS servers', () => {
  let ca: string;
  const bases: Record<string, string> = {};
  const config = checkConfig('postgres://unused@127.0.0.1/unused');

  beforeAll(async () => {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '365', '-subj', '/CN=RouterGPT Test CA']);
    ca = readFileSync(file('ca.pem'), 'utf8');
    const names = 'IP:127.0.0.1,DNS:localhost';
    bases.valid = await serve(await leaf('valid', 200, names));
    bases.expired = await serve(await leaf('expired', -1, names));
    bases.expiring10 = await serve(await leaf('expiring10', 10, names));
    bases.expiring3 = await serve(await leaf('expiring3', 3, names));
    bases.wrongHost = await serve(await leaf('wronghost', 200, 'DNS:api.other.example'));
  }, 60_000);
  afterAll(() => {
    for (const s of servers) s.close();
  });

  const run = (base: string, trustTestCa = true) => runCheck(tlsCertificate, depsFor(config, { apiBase: base, tlsCa: trustTestCa ? [ca] : undefined }));

  it('passes for a valid certificate from a trusted CA, naming issuer and expiry', async () => {
    const result = await run(bases.valid!);
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toContain('RouterGPT Test CA');
    expect(result.data?.daysLeft).toBeGreaterThan(190);
  });

  it('fails for an expired certificate', async () => {
    const result = await run(bases.expired!);
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/expired/);
  });

  it('warns for a certificate expiring in 10 days (under 30)', async () => {
    const result = await run(bases.expiring10!);
    expect(result.status, result.summary).toBe('warn');
    expect(result.summary).toMatch(/expires in (9|10) days/);
  });

  it('fails for a certificate expiring in 3 days (under 7)', async () => {
    const result = await run(bases.expiring3!);
    expect(result.status, result.summary).toBe('fail');
    expect(result.summary).toMatch(/expires in [23] day/);
  });

  it('fails for a certificate issued for another host', async () => {
    const result = await run(bases.wrongHost!);
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/not for 127\.0\.0\.1/);
  });

  it('fails when the chain is not trusted (only the system CAs, not the test CA)', async () => {
    const result = await run(bases.valid!, false);
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/not trusted/);
  });

  it('api.health names the certificate, not a stopped server, when the API certificate is not trusted', async () => {
    const result = await runCli(['smoke', '--base-url', bases.valid!, '--only', 'api.health', '--reporter', 'json'], { cwd: tempDir() });
    expect(result.exitCode).toBe(1);
    const health = JSON.parse(result.stdout).checks.find((c: { id: string }) => c.id === 'api.health');
    expect(health.status).toBe('fail');
    expect(health.hint).toContain('TLS certificate is not trusted');
    expect(health.hint).not.toContain('Start the server');
  });

  it('fails when nothing speaks TLS on the port', async () => {
    const result = await run('https://127.0.0.1:1');
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/no TLS handshake/);
  });
});
