/**
 * The API checks' HTTP transport: one request over node:http / node:https, on a keep-alive agent
 * the caller owns (one per check, bound to the check's own loopback address when it has one).
 *
 * Why not fetch: the checks need status, headers and the body text, never streams or a
 * WHATWG Request. fetch on Node 20 loads undici (the package, for a dispatcher that binds a
 * local address: 110 modules, ≈ 150 ms) and its WHATWG layers on first use (≈ 90 ms); each
 * request then costs about twice what node:http's does (issue 16: verify is a CLI run, and
 * these costs were a third of a one-check `verify`). Redirects are never followed (the checks
 * look at 3xx themselves), as with `redirect: 'manual'`.
 */
import http from 'node:http';
import https from 'node:https';

/** The response headers, looked up case-insensitively like WHATWG `Headers.get` (repeated values joined by ", "). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface TransportResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** A network failure with Node's code (ECONNREFUSED, CERT_HAS_EXPIRED, …) as `code`. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Node's code of a transport failure (ECONNREFUSED, CERT_HAS_EXPIRED, …), else the error's message. */
export function errorCode(error: unknown): string {
  return error instanceof TransportError ? error.code : (error as Error).message;
}

/** Every value of a repeated header, joined as fetch's Headers.get does (Node keeps only the first of some, e.g. content-type). */
function headersOf(distinct: NodeJS.Dict<string[]>): ResponseHeaders {
  return {
    get(name) {
      const values = distinct[name.toLowerCase()];
      return values === undefined ? null : values.join(', ');
    },
  };
}

/** A keep-alive agent for `url`'s scheme, optionally bound to a local address. */
export function createAgent(url: string, localAddress?: string): http.Agent {
  const options = { keepAlive: true, ...(localAddress ? { localAddress } : {}) };
  // The parsed scheme: `HTTPS://…` is https too.
  return new URL(url).protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

/** One request; without an agent, on a connection of its own that is closed after it. */
export function send(url: string, agent: http.Agent | undefined, req: TransportRequest): Promise<TransportResponse> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      if (req.signal?.aborted) reject(req.signal.reason ?? error);
      else reject(new TransportError(error.message, error.code ?? error.message));
    };
    const outgoing = lib.request(target, { method: req.method, headers, agent: agent ?? false, signal: req.signal }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: headersOf(res.headersDistinct), text }));
      res.on('error', fail);
    });
    outgoing.on('error', fail);
    outgoing.end(req.body);
  });
}
