/**
 * The server's pino logger: JSON lines, tagged messages, secrets redacted.
 *
 * Tags go at the start of `msg` ("[ROUTER] search …") because that is what the checklist's
 * `grep ROUTER` and log-aggregation filters look at.
 */
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export const LOG_TAGS = { router: '[ROUTER]', booking: '[BOOKING]', analytics: '[ANALYTICS]' } as const;

/**
 * Keys whose values are replaced by "[Redacted]" wherever they appear in a log record, at any
 * depth — matched by the one walk that masks secret values (below), so no wildcard paths: pino's
 * 16 wildcard redaction paths cost 15–18 % of a search's CPU with the second log line (issue 16).
 */
export const REDACTED_KEYS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'x-api-key', 'apiKey', 'api_key', 'password', 'openaiApiKey']);

/**
 * Explicit paths pino itself censors: what its `req` serializer makes of a raw request (Fastify's
 * own error lines), which the walk cannot see because serializers run after it.
 */
export const REDACT_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'];

export interface ServerLoggerOptions {
  level?: LoggerOptions['level'];
  /** Where lines go (default stdout). Tests pass a stream to read them. */
  destination?: DestinationStream;
  /** Literal secret values (API keys…) to mask inside messages, where path redaction cannot reach. */
  secrets?: Array<string | undefined>;
}

/**
 * OpenAI key shapes, current and legacy (`sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`, with
 * `-`/`_` in the body): masked in every log line even when the key is not one this server holds
 * (an upstream error can echo a key it was sent by someone else).
 */
export const OPENAI_KEY_SHAPE = /\bsk-(?:proj-|svcacct-|admin-|live-)?[A-Za-z0-9_-]{20,}/g;

const MAX_DEPTH = 8;
const REDACTED = '[Redacted]';

/**
 * Mask every string of a log record, at any depth (issue 14, A10): an OpenAI error echoing the API
 * key carries it in nested fields (`error.message`, `param`, `requestID`) that path redaction
 * cannot name in advance. Errors become plain objects (type, message, stack and their own
 * fields), as pino's error serializer would print them. The value of a key in REDACTED_KEYS is
 * replaced whole, at any depth. Returns the record unchanged (the same
 * object) when nothing in it needed masking, so the common line costs one walk and no copy.
 */
export function maskRecord(value: unknown, mask: (text: string) => string, depth = 0, seen?: WeakSet<object>): unknown {
  if (typeof value === 'string') return mask(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (seen?.has(value)) return value;
  // The set of objects walked is made only once a record nests an object: the common line (an
  // access line: strings and numbers) allocates nothing here (issue 16).
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      let m: unknown;
      if (typeof item === 'string') m = mask(item);
      else if (item === null || typeof item !== 'object') m = item;
      else {
        (seen ??= new WeakSet<object>()).add(value);
        m = maskRecord(item, mask, depth + 1, seen);
      }
      if (m !== item) (out ??= value.slice())[i] = m;
    }
    return out ?? value;
  }
  if (value instanceof Error) {
    (seen ??= new WeakSet<object>()).add(value);
    const plain: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack, ...Object.fromEntries(Object.entries(value)) };
    // A cause already on the walk (the error itself, or a loop) is not returned as it is: the err
    // serializer would expand it, unmasked.
    const cause = (value as { cause?: unknown }).cause;
    if (cause !== undefined) plain.cause = typeof cause === 'object' && cause !== null && seen.has(cause) ? '[Circular]' : cause;
    // The walk returns the very record when it masked nothing (a cause that is the error itself
    // included: JSON could not even compare that).
    const masked = maskRecord(plain, mask, depth, seen) as Record<string, unknown>;
    return masked === plain ? value : masked;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    let m: unknown;
    if (REDACTED_KEYS.has(key) && item !== undefined && item !== null) m = REDACTED;
    else if (typeof item === 'string') m = mask(item);
    else if (item === null || typeof item !== 'object') m = item;
    else {
      (seen ??= new WeakSet<object>()).add(value);
      m = maskRecord(item, mask, depth + 1, seen);
    }
    if (m !== item) (out ??= { ...record })[key] = m;
  }
  return out ?? value;
}

export type LogDestination = ReturnType<typeof pino.destination>;

/** Destinations flushed synchronously when the process exits (one 'exit' listener for all). */
const open = new Set<LogDestination>();
let exitHook = false;

/**
 * Lines are gathered here and handed to sonic-boom a batch at a time, once `batchChars` are
 * gathered or `ms` after the batch's first line (a timer armed only while lines wait, so an idle
 * server makes no writes). Not sonic-boom's own `minLength`: it measures the whole buffered string
 * again for every line it is given (Buffer.byteLength, 3 % of a /health's CPU at 8 KB). Whatever
 * drains or ends the destination (flushSync, flush, end — flushLog and the exit flush) hands the
 * waiting lines over first.
 */
function batchLines(destination: LogDestination, batchChars: number, ms: number): void {
  const write = destination.write.bind(destination);
  const flushSync = destination.flushSync.bind(destination);
  const flush = destination.flush.bind(destination);
  const end = destination.end.bind(destination);
  let lines: string[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = (): string | undefined => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0 || (destination as unknown as { destroyed: boolean }).destroyed) return undefined;
    const batch = lines.length === 1 ? lines[0]! : lines.join('');
    lines = [];
    size = 0;
    return batch;
  };
  const handOver = () => {
    const batch = take();
    if (batch !== undefined) write(batch);
  };
  destination.write = (data: string) => {
    lines.push(data);
    size += data.length;
    if (size >= batchChars) handOver();
    else if (timer === undefined) {
      timer = setTimeout(handOver, ms);
      timer.unref();
    }
    return true;
  };
  destination.flushSync = () => {
    // Buffered behind whatever sonic-boom holds (not an asynchronous write of its own, which the
    // exit flush could not wait for), then all of it written synchronously, in order.
    const batch = take();
    if (batch !== undefined) {
      const sonic = destination as unknown as { minLength: number };
      const minLength = sonic.minLength;
      sonic.minLength = Number.POSITIVE_INFINITY;
      write(batch);
      sonic.minLength = minLength;
    }
    flushSync();
  };
  destination.flush = (cb?: (err?: Error) => void) => {
    handOver();
    flush(cb);
  };
  destination.end = () => {
    handOver();
    end();
  };
}

/**
 * A batch is written once this many characters are gathered… 64 KB, not 8: each write is a
 * thread-pool hand-off, and at 8 KB those hand-offs were 7 % of a busy server's request CPU
 * (in-process profile under wrk, /health at ≈ 10k req/s: 186 ms of writes in 8 s → 8 ms).
 */
export const LOG_BATCH_CHARS = 65_536;
/** …or this long after its first line, whichever comes first. */
export const LOG_FLUSH_MS = 50;

/**
 * The server's asynchronous destination, stdout or a file (issue 16): lines are handed to the
 * kernel in the background, in batches — a request never waits on a write, and a write is made
 * once LOG_BATCH_CHARS are gathered or LOG_FLUSH_MS after the batch's first line. One write per
 * line was half of a search's system calls (the write, the thread-pool hand-off and its
 * completion: bench/http) for lines that are read seconds later. Nothing is lost at shutdown:
 * `flushLog` drains it (startServer's close), and whatever is still buffered when the process
 * exits — a watchdog's exit, a second Ctrl-C — is written synchronously from the 'exit' event.
 */
export function createLogDestination(file?: string): LogDestination {
  // The file is opened here, synchronously: a destination still opening could not be flushed at exit.
  if (file) mkdirSync(path.dirname(file), { recursive: true });
  const destination = pino.destination({ dest: file ? openSync(file, 'a') : 1, sync: false });
  batchLines(destination, LOG_BATCH_CHARS, LOG_FLUSH_MS);
  open.add(destination);
  destination.on('close', () => open.delete(destination));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of open) {
        try {
          d.flushSync();
        } catch {
          // not open yet, or already closed: nothing of ours to write
        }
      }
    });
  }
  return destination;
}

/** Wait until every line logged so far has been written (a write in flight lands first, so lines stay in order). */
export async function flushLog(destination: LogDestination): Promise<void> {
  const state = destination as unknown as { _writing?: boolean };
  for (let i = 0; i < 400 && state._writing; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  try {
    destination.flushSync();
  } catch {
    // destroyed or never opened: nothing of ours to write
  }
}

export function createLogger(options: ServerLoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 6).sort((a, b) => b.length - a.length);
  const mask = (text: string) => {
    let out = text;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[Redacted]');
    return out.includes('sk-') ? out.replace(OPENAI_KEY_SHAPE, '[Redacted]') : out;
  };
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'routergpt' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    formatters: {
      // Every string of the merged record, at any depth, before serializers and redaction run.
      log: (record) => maskRecord(record, mask) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = mask(args[i] as string);
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
