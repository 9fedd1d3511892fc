/**
 * GET /openapi.yaml: the GPT-facing document with this environment's PUBLIC_API_BASE as the
 * server — the same text `routergpt openapi build` writes. Public even when the API key is on
 * (the GPT editor imports it by URL), and rendered once at start-up.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { EnvironmentConfig } from '../../config/types.js';
import { renderOpenapi } from '../../openapi/document.js';

export interface OpenapiRouteOptions {
  config: EnvironmentConfig;
}

export const openapiRoutes: FastifyPluginAsync<OpenapiRouteOptions> = async (app, options) => {
  const { config } = options;
  const text = renderOpenapi({
    serverUrl: config.publicApiBase.value,
    serverDescription: config.publicApiBase.value ? config.name : undefined,
    requireAuth: Boolean(config.apiKey.value),
  });
  app.get('/openapi.yaml', async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').header('cache-control', 'public, max-age=300').send(text),
  );
};
