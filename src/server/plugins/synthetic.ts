/**
 * Synthetic traffic (src/lib/synthetic.ts): a request with a valid signed
 * `X-RouterGPT-Synthetic` marker is routergpt's own (verify, smoke, the deploy's checks), and the
 * rows it causes are written with `synthetic = true`. An unsigned, malformed, stale or forged
 * marker is ordinary traffic — never an error, and nothing in the response says which.
 *
 * The signature covers the body, so it is checked in preParsing, where the raw body is read
 * (bounded by the body limit) and handed on unchanged. Requests without the header pay nothing:
 * one header lookup in onRequest. The rate limiter (registered after this plugin, so its
 * preParsing hook runs after ours) reads `request.synthetic` to pick the synthetic policy.
 *
 * The key: ROUTERGPT_SYNTHETIC_KEY (config.syntheticKey) when set, else routergpt.synthetic_key,
 * read at start and again at most once a minute while missing or after a failed check (a key
 * created by a later `migrate up`, or recreated after `migrate down`).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../../db/pool.js';
import { readSyntheticKey } from '../../db/synthetic-key.js';
import { parseSyntheticHeader, SYNTHETIC_HEADER, verifySynthetic, type SyntheticClaim, type SyntheticPolicy } from '../../lib/synthetic.js';
import { globalPlugin } from './skip-override.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The key synthetic markers are signed with, as last read (undefined when the server has none); also keys client HMACs. */
    currentSyntheticKey(): string | undefined;
  }
  interface FastifyRequest {
    /** The request carried a valid synthetic marker: its rows are written with synthetic = true. */
    synthetic: boolean;
    /** The marker's fields when the header is present and well-formed (not yet verified). */
    syntheticClaim: SyntheticClaim | null;
    /** The policy a valid marker asked for (`real`: the real clients' rate-limit policy). */
    syntheticPolicy: SyntheticPolicy | null;
  }
}

export interface SyntheticOptions extends Record<string, unknown> {
  db: Queryable;
  /** ROUTERGPT_SYNTHETIC_KEY; without it the database's key is used. */
  key?: string;
  bodyLimit: number;
  /** How long a missing database key is remembered before it is read again (default 60 s). */
  refreshMs?: number;
  now?: () => number;
}

export interface SyntheticKeySource {
  get(): Promise<string | undefined>;
  /** The key as last read, without reading (synchronous). */
  current(): string | undefined;
  /** A marker failed: the key may have changed (read again, no more than once per refresh). */
  suspect(): void;
}

export function createKeySource(db: Queryable, fixed: string | undefined, refreshMs: number, onError: (error: unknown) => void): SyntheticKeySource {
  if (fixed) return { get: async () => fixed, current: () => fixed, suspect: () => {} };
  let key: string | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let stale = true;
  let inflight: Promise<string | undefined> | undefined;
  const read = () =>
    (inflight ??= readSyntheticKey(db)
      .then(
        (k) => {
          key = k;
          return k;
        },
        (error: unknown) => {
          onError(error);
          return key;
        },
      )
      .finally(() => {
        readAt = Date.now();
        stale = false;
        inflight = undefined;
      }));
  return {
    async get() {
      if ((key === undefined || stale) && Date.now() - readAt >= refreshMs) return read();
      return key;
    },
    current: () => key,
    suspect() {
      stale = true;
    },
  };
}

async function readBody(stream: NodeJS.ReadableStream, limit: number): Promise<{ body: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buf);
    size += buf.length;
    // Over the limit: stop hashing; Fastify refuses the body (413) from what is handed on.
    if (size > limit) return { body: Buffer.concat(chunks), complete: false };
  }
  return { body: Buffer.concat(chunks), complete: true };
}

export const syntheticPlugin = globalPlugin<SyntheticOptions>(async (app: FastifyInstance, opts) => {
  const keys = createKeySource(opts.db, opts.key, opts.refreshMs ?? 60_000, (error) => app.log.warn({ err: error }, '[ROUTER] could not read routergpt.synthetic_key; synthetic markers are not accepted until it can be read'));
  // Read at start, so the first marked request finds the key — but never hold up start-up on a
  // database that does not answer (/health reports that); the key is read again when needed.
  await Promise.race([keys.get(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  app.decorate('currentSyntheticKey', () => keys.current());
  app.decorateRequest('synthetic', false);
  app.decorateRequest('syntheticClaim', null);
  app.decorateRequest('syntheticPolicy', null);

  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    const header = request.headers[SYNTHETIC_HEADER];
    if (header !== undefined) request.syntheticClaim = parseSyntheticHeader(header) ?? null;
    done();
  });

  // Callback style: a request without a marker (nearly all) passes with no promise of its own.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const claim = request.syntheticClaim;
    if (!claim) return done(null, payload);
    verifyMarked(request, claim, payload).then(
      (replay) => done(null, replay),
      (error: Error) => done(error),
    );
  });

  async function verifyMarked(request: FastifyRequest, claim: SyntheticClaim, payload: NodeJS.ReadableStream): Promise<Readable> {
    const { body, complete } = await readBody(payload, opts.bodyLimit);
    const key = await keys.get();
    const result = complete ? verifySynthetic(claim, { method: request.method, path: request.url, body, key, nowMs: opts.now?.() }) : undefined;
    if (result?.valid) {
      request.synthetic = true;
      request.syntheticPolicy = result.policy ?? null;
    } else if (result?.reason === 'bad-signature') {
      keys.suspect();
    }
    request.log.debug({ synthetic: request.synthetic, reason: result && !result.valid ? result.reason : undefined }, '[ROUTER] synthetic marker checked');
    // The same bytes, for the body parser (which checks them against Content-Length).
    const replay = Readable.from(body.length > 0 ? [body] : [], { objectMode: false }) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = body.length;
    return replay;
  }
}, 'routergpt-synthetic');
