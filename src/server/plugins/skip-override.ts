import type { FastifyPluginAsync } from 'fastify';

/**
 * Mark a plugin so its decorators and hooks apply to the parent scope — what fastify-plugin
 * does, without the dependency (fastify-plugin is not a direct dependency of this package).
 */
export function globalPlugin<O extends Record<string, unknown>>(plugin: FastifyPluginAsync<O>, name: string): FastifyPluginAsync<O> {
  const p = plugin as FastifyPluginAsync<O> & Record<symbol | string, unknown>;
  p[Symbol.for('skip-override')] = true;
  p[Symbol.for('fastify.display-name')] = name;
  return p;
}
