/**
 * The server's pino logger: JSON lines, tagged messages, secrets redacted.
 *
 * Tags go at the start of `msg` ("[ROUTER] search …") because that is what the checklist's
 * `grep ROUTER` and log-aggregation filters look at.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export const LOG_TAGS = { router: '[ROUTER]', booking: '[BOOKING]', analytics: '[ANALYTICS]' } as const;

/** Paths pino replaces with "[Redacted]" wherever they appear in a log object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'authorization',
  '*.authorization',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'password',
  '*.password',
  'openaiApiKey',
  '*.openaiApiKey',
];

export interface ServerLoggerOptions {
  level?: LoggerOptions['level'];
  /** Where lines go (default stdout). Tests pass a stream to read them. */
  destination?: DestinationStream;
  /** Literal secret values (API keys…) to mask inside messages, where path redaction cannot reach. */
  secrets?: Array<string | undefined>;
}

export function createLogger(options: ServerLoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 6);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('[Redacted]'), text);
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'routergpt' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    hooks: {
      logMethod(args, method) {
        if (secrets.length > 0) {
          for (let i = 0; i < args.length; i++) {
            const arg = args[i];
            if (typeof arg === 'string') args[i] = mask(arg);
            else if (arg instanceof Error) arg.message = mask(arg.message);
            else if (arg && typeof arg === 'object' && 'err' in arg && arg.err instanceof Error) arg.err.message = mask(arg.err.message);
          }
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
