import os from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { errorBody } from '../../src/server/errors.js';
import { registerEdgePlugins, type EdgeDeps } from '../../src/server/plugins/edge.js';
import { createEdgeAnswers } from '../../src/server/plugins/edge-answers.js';
import { SecureServerResponse } from '../../src/server/plugins/security-headers.js';

/** A real resolved config for `local`, from the given environment variables (no file). */
export function edgeConfig(env: Record<string, string> = {}): EnvironmentConfig {
  return loadConfig({ flags: { env: 'local' }, cwd: os.tmpdir(), env }).config;
}

/**
 * A minimal Fastify app with the real edge plugins and stand-in routes of the same shape as
 * the API's (search validates its body, so bad input gives the API's 422 body). Plugin tests use
 * it so they do not need a database.
 */
export async function buildEdgeTestApp(config: EnvironmentConfig, deps: Omit<EdgeDeps, 'config'> = {}, logStream?: NodeJS.WritableStream): Promise<FastifyInstance> {
  const trusted = config.trustedProxies.value;
  const answers = createEdgeAnswers();
  const app = Fastify({
    trustProxy: trusted.length > 0 ? trusted : false,
    clientErrorHandler: (error, socket) => answers.clientError(error, socket),
    frameworkErrors: (error, request, reply) => answers.frameworkError(error, request, reply),
    logger: logStream ? { level: 'info', stream: logStream } : false,
    // As buildApp's server: the security headers written with the head on a real socket.
    http: { ServerResponse: SecureServerResponse },
  });
  await registerEdgePlugins(app, { config, answers, ...deps });
  app.setErrorHandler((error: { validation?: unknown; statusCode?: number; message: string }, _request, reply) => {
    if (error.validation) return reply.code(422).send(errorBody('validation_failed', error.message, []));
    return reply.code(error.statusCode ?? 500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('not_found', `No route ${request.method} ${request.url}`)));
  app.get('/health', async () => ({ ok: true, rate_limits: app.rateLimitStatus() }));
  app.post(
    '/router/search-by-location',
    { schema: { body: { type: 'object', required: ['latitude', 'longitude'], properties: { latitude: { type: 'number', minimum: -90, maximum: 90 }, longitude: { type: 'number', minimum: -180, maximum: 180 } } } } },
    async () => ({ results: [], search_id: '00000000-0000-4000-8000-000000000000', message: 'none' }),
  );
  app.post('/router/delegate', async (_request, reply) => reply.code(201).send({ session_id: '00000000-0000-4000-8000-000000000001' }));
  app.post('/chat', async () => ({ reply: 'hi', booking: null }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  return app;
}
