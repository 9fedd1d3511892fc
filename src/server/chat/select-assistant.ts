import type { Logger } from 'pino';
import { LOG_TAGS } from '../logger.js';
import { createOfflineAssistant } from './offline-assistant.js';
import { createOpenAiAssistant, type OpenAiAssistantOptions } from './openai-assistant.js';
import type { Assistant } from './types.js';

/**
 * OpenAI when a key is configured, the offline assistant otherwise. An OpenAI failure (timeout,
 * 5xx, malformed answer) is logged and the offline assistant answers, so a chat turn never
 * exceeds the OpenAI deadline by much and the customer is never left without a reply.
 */
export function selectAssistant(openai: Partial<OpenAiAssistantOptions> | undefined, log: Logger): Assistant {
  const offline = createOfflineAssistant();
  if (!openai?.apiKey) return offline;
  const primary = createOpenAiAssistant({ ...openai, apiKey: openai.apiKey });
  return {
    name: primary.name,
    async respond(input) {
      try {
        return await primary.respond(input);
      } catch (error) {
        log.error({ err: error, session_id: input.session.id }, `${LOG_TAGS.router} OpenAI assistant failed; answering with the offline assistant`);
        const reply = await offline.respond(input);
        return reply;
      }
    },
  };
}
