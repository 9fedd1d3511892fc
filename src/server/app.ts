/**
 * The API as a Fastify app, without listening (STYLE.md §12): tests inject into it or listen
 * on port 0; src/server/main.ts listens and shuts down gracefully.
 */
import { hostname } from 'node:os';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { EnvironmentConfig } from '../config/types.js';
import type { Pool } from '../db/pool.js';
import { VERSION } from '../version.js';
import type { AnalyticsSettings } from './analytics/writer.js';
import { selectAssistant } from './chat/select-assistant.js';
import type { Assistant } from './chat/types.js';
import { registerAccessLog } from './access-log.js';
import { createLogger, type ServerLoggerOptions } from './logger.js';
import { registerEdgePlugins, type EdgeDeps } from './plugins/edge.js';
import { createEdgeAnswers } from './plugins/edge-answers.js';
import { registerErrorHandling } from './plugins/error-handler.js';
import { refuseUnstorableText } from './plugins/storable-text.js';
import { outcomesPlugin } from './plugins/outcomes.js';
import { responseBoundsPlugin } from './plugins/response-bounds.js';
import { SecureServerResponse } from './plugins/security-headers.js';
import { resourcesPlugin } from './plugins/resources.js';
import { syntheticPlugin } from './plugins/synthetic.js';
import { chatRoutes } from './routes/chat.js';
import { delegateRoutes } from './routes/delegate.js';
import { feedbackRoutes } from './routes/feedback.js';
import { guardWithToggle } from './routes/guard.js';
import { healthRoutes } from './routes/health.js';
import { openapiRoutes } from './routes/openapi.js';
import { searchRoutes } from './routes/search.js';

export const BODY_LIMIT_BYTES = 16 * 1024;
export const REQUEST_TIMEOUT_MS = 15_000;
export const CONNECTION_TIMEOUT_MS = 20_000;

/** `redis` and `rateLimit` (from EdgeDeps) go to the edge plugins. */
export interface ServerDeps extends EdgeDeps {
  pool: Pool;
  config: EnvironmentConfig;
  /** A ready pino logger, or options for the default one (level, destination). */
  logger?: Logger | ServerLoggerOptions;
  clock?: () => Date;
  /** Replace the assistant (tests); default: OpenAI when `openai.apiKey`/config has a key, else offline. */
  assistant?: Assistant;
  /** OpenAI client settings; the key defaults to the config's OPENAI_API_KEY. */
  openai?: { apiKey?: string; baseURL?: string; model?: string; timeoutMs?: number };
  analytics?: AnalyticsSettings;
  /** How long the feature-flag row is cached (≤ 1 s). */
  flagTtlMs?: number;
  /** The release this server runs (ROUTERGPT_RELEASE), reported by /health as `version`; default: the package version. */
  release?: string;
  /** Signs synthetic markers; default: config.syntheticKey (ROUTERGPT_SYNTHETIC_KEY), else routergpt.synthetic_key. */
  syntheticKey?: string;
}

function isLogger(value: unknown): value is Logger {
  return typeof value === 'object' && value !== null && typeof (value as Logger).child === 'function' && typeof (value as Logger).info === 'function';
}

export async function buildApp(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const logger = isLogger(deps.logger)
    ? deps.logger
    : createLogger({ ...deps.logger, secrets: [...(deps.logger?.secrets ?? []), config.openaiApiKey.value, config.apiKey.value, deps.openai?.apiKey] });
  const trusted = config.trustedProxies.value;
  // CONNECT, parser-level errors and undecodable URLs: answered through the edge like any request.
  const answers = createEdgeAnswers();

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: 5_000,
    // The security headers are written with the head (src/server/plugins/security-headers.ts).
    http: { ServerResponse: SecureServerResponse },
    // X-Forwarded-* are believed only from the configured proxies.
    trustProxy: trusted.length > 0 ? trusted : false,
    return503OnClosing: true,
    // One access line per request (registerAccessLog below) instead of Fastify's two: each
    // line is a write, and two per request halved /health throughput (bench/http).
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: (error, socket) => answers.clientError(error, socket),
    frameworkErrors: (error, request, reply) => answers.frameworkError(error, request, reply),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true } },
  }) as unknown as FastifyInstance;

  const openai = { ...deps.openai, apiKey: deps.openai?.apiKey ?? config.openaiApiKey.value };
  const version = deps.release?.trim() || VERSION;
  await app.register(resourcesPlugin, {
    pool: deps.pool,
    config,
    clock: deps.clock ?? (() => new Date()),
    assistant: deps.assistant ?? selectAssistant(openai, logger),
    // Every analytics row says which release and host served it (the /health `version`).
    analytics: { release: version, host: hostname(), ...deps.analytics },
    flagTtlMs: deps.flagTtlMs,
  });
  // Before the edge plugins: the rate limiter reads the verdict on the marker.
  await app.register(syntheticPlugin, { db: deps.pool, key: deps.syntheticKey ?? config.syntheticKey.value, bodyLimit: BODY_LIMIT_BYTES });
  registerErrorHandling(app);
  // Every router request's outcome: error events for 5xx, refusal counts for 4xx and the toggle's 503.
  await app.register(outcomesPlugin);

  // Graceful shutdown: Node closes the connections that are idle when close() starts, but a
  // keep-alive connection whose request was in flight would then stay open until the
  // keep-alive timeout. Responses sent while closing say `Connection: close` instead.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: no promise per response (bench/http).
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // One access line per request, with what the route noted about it (src/server/access-log.ts).
  registerAccessLog(app);

  // Rate limits, CORS, HSTS, HTTPS redirect, auth: the one place they are registered.
  await registerEdgePlugins(app, { ...deps, answers });
  // Every JSON body within the bounds openapi/openapi_chatgpt.yaml publishes for it (A14).
  await app.register(responseBoundsPlugin);

  await app.register(healthRoutes, { version });
  // Public, outside the toggle guard: the GPT editor imports the document by URL.
  await app.register(openapiRoutes, { config });
  await app.register(async (router) => {
    guardWithToggle(router);
    refuseUnstorableText(router);
    await router.register(searchRoutes);
    await router.register(delegateRoutes);
    await router.register(chatRoutes);
    await router.register(feedbackRoutes);
  });
  return app;
}
