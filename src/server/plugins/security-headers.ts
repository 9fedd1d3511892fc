/**
 * The security headers every response carries, computed once (issue 16, item 3). They are the
 * set @fastify/helmet 13 (helmet 8) sent with the options this API used — HSTS for a year with
 * subdomains, a CSP that allows nothing (responses are JSON/YAML, never rendered pages),
 * Cross-Origin-Resource-Policy same-origin, the rest of helmet's defaults — byte for byte and in
 * the same order. helmet rebuilt its middleware and re-parsed the CSP directives on every request
 * (5 % of a search's CPU, 15 % of /health's); nothing here depends on the request.
 *
 * Written first on the wire, as helmet wrote them, whatever Fastify does with its own reply
 * headers (error replies, 404s, the preflight answers). On a real socket the server's response
 * class (SecureServerResponse, Fastify's `http.ServerResponse` option) adds them when the head is
 * written; in app.inject()'s responses, which are light-my-request's own class, the onRequest
 * hook sets them on the response as helmet did.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

/** Name → value, in the order helmet wrote them. */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', "default-src 'none';frame-ancestors 'none'"],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', HSTS_VALUE],
  ['x-content-type-options', 'nosniff'],
  ['x-dns-prefetch-control', 'off'],
  ['x-download-options', 'noopen'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['x-xss-protection', '0'],
];

const SECURITY_NAMES = new Set(SECURITY_HEADERS.map(([name]) => name));

function setOn(response: ServerResponse, set: (name: string, value: string) => unknown): void {
  for (let i = 0; i < SECURITY_HEADERS.length; i++) {
    const [name, value] = SECURITY_HEADERS[i]!;
    set.call(response, name, value);
  }
}

/**
 * The server's response class: the static set goes in front of the head as it is written. Node's
 * header map is not used for it: twelve setHeader() calls per response built a fresh map that
 * V8 keeps as a dictionary, and writing a head from it cost more than the route (bench/http,
 * /health: 12 µs of 36). The head is one flat name/value list instead, validated by Node as
 * any writeHead() list is.
 *
 * Same bytes, same order as the hook: the static set first (a value some code set for one of its
 * names replaces the static value in place, as setHeader() did), then whatever was set on the
 * response itself, then the head's own headers. Fastify passes its reply headers lowercased, as
 * the names here are. (Fastify sends no X-Powered-By that helmet would remove.)
 */
export class SecureServerResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Something called setHeader()/appendHeader() on this response: its header map is in use. */
  #mapped = false;

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.#mapped = true;
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.#mapped = true;
    return super.appendHeader(name, value);
  }

  override writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    let message: string | undefined;
    if (typeof reason === 'string') message = reason;
    else headers = reason;
    if (this.headersSent) return super.writeHead(statusCode, message, headers);
    if (this.#mapped || Array.isArray(headers)) {
      // The rare path (nothing in this API's request path sets headers on the raw response):
      // rebuild the map with the static set in front, then let Node merge the head into it.
      // getRawHeaderNames (Node ≥ 15.1, not in @types/node): the names as they were set.
      const names = (this as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames();
      const values = names.map((name) => this.getHeader(name)!);
      for (const name of names) this.removeHeader(name);
      setOn(this, super.setHeader);
      for (let i = 0; i < names.length; i++) super.setHeader(names[i]!, values[i]!);
      return super.writeHead(statusCode, message, headers);
    }
    const own = headers as OutgoingHttpHeaders | undefined;
    const list: OutgoingHttpHeader[] = [];
    for (let i = 0; i < SECURITY_HEADERS.length; i++) {
      const [name, value] = SECURITY_HEADERS[i]!;
      const replaced = own?.[name];
      list.push(name, replaced === undefined ? value : replaced);
    }
    if (own) {
      for (const name in own) {
        const value = own[name];
        if (value !== undefined && !SECURITY_NAMES.has(name)) list.push(name, value);
      }
    }
    return super.writeHead(statusCode, message, list as unknown as OutgoingHttpHeader[]);
  }
}

/**
 * An onRequest hook: the static headers on a response that is not a SecureServerResponse (those
 * of app.inject()), set on the raw response as helmet did.
 */
export function setSecurityHeaders(_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const raw = reply.raw;
  if (!(raw instanceof SecureServerResponse)) setOn(raw, raw.setHeader);
  done();
}
