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
 * /health: 161 → 121 µs of server CPU per request). The head is one flat name/value list
 * instead, validated by Node as any writeHead() list is.
 *
 * Byte for byte what the onRequest hook gave (test/server/security-headers-response.test.ts
 * compares the two on a real socket): the static set first — a value the head gives for one of
 * its names replaces the static one in place, as setHeader() did — then the head's own headers.
 * The list is built only for a head whose names are all lowercase (Fastify's reply headers):
 * anything else — a header set, appended or removed on the response itself, a head given as an
 * array or with a capital letter, a head Node refuses — first puts the set in Node's header map,
 * as the hook did, and lets Node write the head from it. Until then the getters answer from the
 * set (before the head) or the list (after), as the map would have. (Fastify sends no
 * X-Powered-By that helmet would remove.)
 */
export class SecureServerResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Node's header map holds the set: from here on this is a plain ServerResponse after the hook. */
  #mapped = false;
  /** The list the head was written from, for the getters. */
  #written: OutgoingHttpHeader[] | undefined;

  /** What the hook did at the start of the request: the set into Node's (empty) header map. */
  #map(): void {
    if (this.#mapped) return;
    this.#mapped = true;
    if (!this.headersSent) setOn(this, super.setHeader);
  }

  /** The headers as [name as given, value], for the getters while the map is not in use. */
  #entries(): ReadonlyArray<readonly [string, OutgoingHttpHeader]> {
    const list = this.#written;
    if (!list) return SECURITY_HEADERS;
    const entries: Array<readonly [string, OutgoingHttpHeader]> = [];
    for (let i = 0; i < list.length; i += 2) entries.push([list[i] as string, list[i + 1]!]);
    return entries;
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.#map();
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.#map();
    return super.appendHeader(name, value);
  }

  override removeHeader(name: string): void {
    this.#map();
    super.removeHeader(name);
  }

  override getHeader(name: string): number | string | string[] | undefined {
    if (this.#mapped) return super.getHeader(name);
    const lower = name.toLowerCase();
    return this.#entries().find(([n]) => n === lower)?.[1] as number | string | string[] | undefined;
  }

  override hasHeader(name: string): boolean {
    return this.#mapped ? super.hasHeader(name) : this.getHeader(name) !== undefined;
  }

  override getHeaderNames(): string[] {
    return this.#mapped ? super.getHeaderNames() : this.#entries().map(([n]) => n.toLowerCase());
  }

  override getHeaders(): OutgoingHttpHeaders {
    if (this.#mapped) return super.getHeaders();
    const headers: OutgoingHttpHeaders = Object.create(null);
    for (const [n, v] of this.#entries()) headers[n.toLowerCase()] = v as OutgoingHttpHeaders[string];
    return headers;
  }

  override writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    // Node's own argument rule: a non-string second argument is the headers unless a third is given.
    let message: string | undefined;
    if (typeof reason === 'string') message = reason;
    else headers ??= reason ?? undefined;
    if (this.#mapped || this.headersSent || Array.isArray(headers)) return this.#viaMap(statusCode, message, headers);
    const own = headers as OutgoingHttpHeaders | null | undefined;
    const list: OutgoingHttpHeader[] = [];
    for (let i = 0; i < SECURITY_HEADERS.length; i++) {
      const [name, value] = SECURITY_HEADERS[i]!;
      list.push(name, own && name in own ? own[name]! : value);
    }
    if (own) {
      for (const name in own) {
        // A capital letter could name a header twice (Node's map would merge them): the map decides.
        if (name !== name.toLowerCase()) return this.#viaMap(statusCode, message, headers);
        // The map skipped an empty name, as Node does when it merges a head into it.
        if (name && !SECURITY_NAMES.has(name)) list.push(name, own[name]!);
      }
    }
    try {
      super.writeHead(statusCode, message, list as unknown as OutgoingHttpHeader[]);
    } catch {
      // A status or a value Node refuses: written (or refused) again the hook's way, so the error
      // and what the map holds for a retry (Fastify's 500) are the same as before.
      return this.#viaMap(statusCode, message, headers);
    }
    this.#written = list;
    return this;
  }

  #viaMap(statusCode: number, message: string | undefined, headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): this {
    this.#map();
    return message === undefined ? super.writeHead(statusCode, headers) : super.writeHead(statusCode, message, headers);
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
