/**
 * Answers given outside Fastify's router (issue 14, A12): a `CONNECT` (Node hands it to a
 * `'connect'` listener, and without one drops the connection unanswered), a request that Node's
 * HTTP parser refuses (400, 431 headers too large, 408 too slow), and a URL whose
 * percent-encoding does not decode (Fastify's `frameworkErrors`). Fastify answers the last two
 * without running a hook, so they lacked the rate-limit and security headers every response
 * carries, and their bodies were not the API's error shape.
 *
 * Each is answered by injecting a stand-in request into the app — from the same client address,
 * through the same hooks as any request (rate limit, HSTS and the other security headers, CORS) —
 * and writing that answer on the connection. One path, so the next header added at the edge is
 * on these answers too. The stand-in route answers only a request bearing this process's random
 * token; to anyone else it does not exist.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, type ApiErrorCode } from '../errors.js';

/** The stand-in route; it is public (no API key): the answers it gives are refusals. */
export const EDGE_ANSWER_PATH = '/__edge-answer';
const TOKEN_HEADER = 'x-routergpt-edge-token';
const KIND_HEADER = 'x-routergpt-edge-kind';

/** The longest a connection answered here stays open. */
const ANSWER_TIMEOUT_MS = 5_000;

type AnswerKind = 'connect' | 'bad-url' | 'bad-request' | 'headers-too-large' | 'request-timeout';

const ANSWERS: Record<AnswerKind, { status: number; code: ApiErrorCode; message: string }> = {
  connect: { status: 405, code: 'method_not_allowed', message: 'CONNECT is not supported: this is an HTTP API, not a proxy. Use GET or POST.' },
  'bad-url': { status: 400, code: 'bad_request', message: 'The URL is not valid: a percent-encoding in it does not decode. Encode the path as UTF-8 (%XX per byte).' },
  'bad-request': { status: 400, code: 'bad_request', message: 'The request is not valid HTTP/1.1. Send a request line, headers and an optional body as RFC 9112 describes.' },
  'headers-too-large': { status: 431, code: 'headers_too_large', message: 'The request headers are too large (16 KiB in all). Send fewer or shorter headers.' },
  'request-timeout': { status: 408, code: 'request_timeout', message: 'The request took too long to arrive. Send it again.' },
};

/** What the app's 'connect' and client-error listeners and `frameworkErrors` call. */
export interface EdgeAnswers {
  /** Fastify's `clientErrorHandler` (bound to the app by Fastify). */
  clientError(error: NodeJS.ErrnoException, socket: Duplex): void;
  /** Fastify's `frameworkErrors`: a URL the router cannot decode. */
  frameworkError(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void;
  /** Register the stand-in route and the CONNECT listener; call once, before the app is ready. */
  register(app: FastifyInstance): void;
}

interface Injected {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Hop-by-hop and framing headers are the connection's, not the answer's. */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

function rawResponse(answer: Injected): string {
  const lines = [`HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ''}`];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || NOT_COPIED.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
  }
  lines.push(`date: ${new Date().toUTCString()}`, `content-length: ${Buffer.byteLength(answer.body)}`, 'connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${answer.body}`;
}

function kindOfClientError(code: string | undefined): AnswerKind {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request-timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'headers-too-large';
  return 'bad-request';
}

/** Headers of the original request worth keeping on the stand-in (CORS needs Origin; a trusted proxy's X-Forwarded-For names the client). */
function forwardedHeaders(raw: IncomingMessage | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['origin', 'x-forwarded-for'] as const) {
    const value = raw?.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

export function createEdgeAnswers(): EdgeAnswers {
  const token = randomBytes(16).toString('hex');
  let app: FastifyInstance | undefined;

  const inject = async (kind: AnswerKind, remoteAddress: string | undefined, headers: Record<string, string>): Promise<Injected> => {
    const fallback: Injected = { statusCode: ANSWERS[kind].status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(errorBody(ANSWERS[kind].code, ANSWERS[kind].message)) };
    if (!app) return fallback;
    try {
      const response = await app.inject({ method: 'GET', url: EDGE_ANSWER_PATH, remoteAddress, headers: { ...headers, [TOKEN_HEADER]: token, [KIND_HEADER]: kind } });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    } catch {
      return fallback; // the app is closing: the answer without the edge headers rather than none
    }
  };

  const answerOnSocket = (kind: AnswerKind, socket: Duplex, remoteAddress: string | undefined, headers: Record<string, string> = {}) => {
    // A response still in progress on this connection (a request pipelined before the bad one):
    // a raw answer now would be read as its answer. Close instead, as Node's own handler does.
    if ((socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    // The connection ends with this answer. Node accepts sockets half-open, so a client that never
    // closes its side would hold the descriptor (and app.close()) forever: destroy once written,
    // and after a few seconds whatever happens.
    const guard = setTimeout(() => socket.destroy(), ANSWER_TIMEOUT_MS);
    guard.unref();
    socket.once('close', () => clearTimeout(guard));
    void inject(kind, remoteAddress, headers).then((answer) => {
      if (socket.writable) socket.end(rawResponse(answer), () => socket.destroy());
      else socket.destroy();
    });
  };

  return {
    register(instance) {
      app = instance;
      instance.get(EDGE_ANSWER_PATH, async (request, reply) => {
        const kind = request.headers[KIND_HEADER] as AnswerKind;
        if (request.headers[TOKEN_HEADER] !== token || !Object.hasOwn(ANSWERS, kind)) return reply.callNotFound();
        const answer = ANSWERS[kind];
        if (kind === 'connect') reply.header('allow', 'GET, POST, OPTIONS');
        return reply.code(answer.status).type('application/json; charset=utf-8').send(errorBody(answer.code, answer.message));
      });
      instance.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
        socket.on('error', () => socket.destroy());
        answerOnSocket('connect', socket, request.socket.remoteAddress, forwardedHeaders(request));
      });
    },
    clientError(error, socket) {
      // A reset connection has no one to answer (Fastify's own handler does the same).
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      socket.on('error', () => socket.destroy());
      answerOnSocket(kindOfClientError(error.code), socket, (socket as Duplex & { remoteAddress?: string }).remoteAddress);
    },
    frameworkError(error, request, reply) {
      const raw = reply.raw;
      void inject(error.code === 'FST_ERR_BAD_URL' ? 'bad-url' : 'bad-request', request.raw.socket?.remoteAddress, forwardedHeaders(request.raw)).then((answer) => {
        if (raw.headersSent || raw.destroyed) return;
        const headers: Record<string, string | string[] | number> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !NOT_COPIED.has(name)) headers[name] = value;
        headers['content-length'] = Buffer.byteLength(answer.body);
        raw.writeHead(answer.statusCode, headers);
        raw.end(answer.body);
      });
    },
  };
}
