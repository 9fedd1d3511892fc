import { isIP } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { defineCheck, fail, pass, warn } from '../define-check.js';

const DAY_MS = 86_400_000;

interface Handshake {
  cert: PeerCertificate;
  authorized: boolean;
  authorizationError?: string;
}

/** One TLS handshake that does not give up on an untrusted chain, so we can say what is wrong. */
function handshake(host: string, port: number, ca: string[] | undefined, signal: AbortSignal | undefined): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: isIP(host) ? undefined : host, ca, rejectUnauthorized: false, timeout: 10_000 });
    const done = (error?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
    };
    const onAbort = () => done(new Error('aborted'));
    signal?.addEventListener('abort', onAbort);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      const result = { cert, authorized: socket.authorized, authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined };
      done();
      resolve(result);
    });
    socket.once('timeout', () => done(new Error(`no TLS handshake with ${host}:${port} within 10 s`)));
    socket.once('error', (error) => done(error));
  });
}

function name(subject: PeerCertificate['subject'] | undefined): string {
  if (!subject) return 'unknown';
  return [subject.CN, subject.O].filter(Boolean).join(', ') || 'unknown';
}

/**
 * The checklist's "SSL/TLS certificates installed — certificate valid and not expiring soon":
 * a real handshake with the API host (SNI = host), the chain verified against the system CAs
 * (or deps.tlsCa), the name checked with tls.checkServerIdentity, and days to expiry.
 */
export default defineCheck({
  id: 'tls.certificate',
  title: 'TLS certificate valid and not expiring soon',
  needs: ['tls'],
  stages: ['pre', 'post'],
  params: ['failDays', 'warnDays'],
  async run(deps) {
    const url = new URL(deps.apiBase!);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 443);
    const failDays = Number(deps.params?.failDays ?? 7);
    const warnDays = Number(deps.params?.warnDays ?? 30);
    let hs: Handshake;
    try {
      hs = await handshake(host, port, deps.tlsCa, deps.signal);
    } catch (error) {
      return fail(`no TLS handshake with ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: 'Check the host listens with TLS on that port (GPT Actions need 443) and a certificate is installed.' });
    }
    const { cert } = hs;
    const validTo = new Date(cert.valid_to);
    const days = Math.floor((validTo.getTime() - deps.now().getTime()) / DAY_MS);
    const issuer = name(cert.issuer);
    const data = { subject: name(cert.subject), issuer, validTo: validTo.toISOString(), daysLeft: days, subjectAltName: cert.subjectaltname };
    const details = [`subject: ${data.subject}`, `issuer: ${issuer}`, `valid from ${new Date(cert.valid_from).toISOString().slice(0, 10)} to ${validTo.toISOString().slice(0, 10)}`, `names: ${cert.subjectaltname ?? '(none)'}`];
    const renew = 'Renew the certificate (certbot renew, or your provider), install the full chain, and reload the proxy.';
    if (days < 0 || hs.authorizationError === 'CERT_HAS_EXPIRED') return fail(`the certificate expired on ${validTo.toISOString().slice(0, 10)}`, { details, data, hint: renew });
    // The name first: Node also reports a name mismatch as an authorization error.
    const mismatch = tls.checkServerIdentity(host, cert);
    if (mismatch) return fail(`the certificate is not for ${host}: ${mismatch.message}`, { details, data, hint: `Issue a certificate whose subjectAltName includes ${host}.` });
    if (!hs.authorized) {
      return fail(`the certificate chain is not trusted: ${hs.authorizationError ?? 'unknown reason'}`, { details, data, hint: 'Serve the full chain (leaf + intermediates) from a public CA; a self-signed certificate is refused by GPT Actions.' });
    }
    if (days < failDays) return fail(`the certificate expires in ${days} day(s) (${validTo.toISOString().slice(0, 10)})`, { details, data, hint: renew });
    if (days < warnDays) return warn(`the certificate expires in ${days} days (${validTo.toISOString().slice(0, 10)})`, { details, data, hint: renew });
    return pass(`trusted, for ${host}, issued by ${issuer}, expires ${validTo.toISOString().slice(0, 10)} (${days} days)`, { details, data });
  },
});
