/**
 * The Spectral ruleset `routergpt openapi validate` and the `openapi.valid` check lint with:
 * Spectral's `oas` ruleset and the OWASP API Security ruleset (@stoplight/spectral-owasp-ruleset),
 * both loaded from node_modules (nothing is fetched), plus the few changes below. Every change
 * says why; none hides a gap the API has — a rule is replaced only where, as written, it
 * cannot be satisfied by a document that tells the truth, and the replacement checks the same thing.
 *
 * Imported lazily (`await import()`) by src/openapi/spectral.ts: Spectral is large, and the check
 * registry is loaded by every verify and deploy run.
 */
import { pattern, schema } from '@stoplight/spectral-functions';
import type { RulesetDefinition } from '@stoplight/spectral-core';
import owasp from '@stoplight/spectral-owasp-ruleset';
import { oas } from '@stoplight/spectral-rulesets';

/** The rule ids this ruleset adds (prefix `routergpt:`), each standing in for an OWASP rule turned off. */
export const ROUTERGPT_RULES = {
  rateLimitHeaders: 'routergpt:rate-limit-headers',
  serverHttps: 'routergpt:server-https',
} as const;

export const routergptRuleset = {
  extends: [oas, owasp] as unknown as RulesetDefinition[],
  rules: {
    // The template is shared by every deployment and names no operator; who to contact about one
    // deployment is not something the template can say truthfully.
    'info-contact': 'off',
    // OWASP's rule requires the headers of ONE rate-limit convention (a JSON Schema oneOf over
    // RateLimit, RateLimit-Limit+Reset, X-RateLimit-Limit, X-Rate-Limit-Limit), so a response that
    // declares both families the server really sends (X-RateLimit-* and the IETF RateLimit /
    // RateLimit-Policy, src/server/plugins/rate-limit/headers.ts) fails it. Replaced by the same
    // requirement with anyOf: every 2XX and 4XX response declares rate-limit headers.
    'owasp:api4:2023-rate-limit': 'off',
    [ROUTERGPT_RULES.rateLimitHeaders]: {
      description: 'Every 2XX and 4XX response declares the rate-limit headers (owasp:api4:2023-rate-limit, allowing both the X-RateLimit-* and the IETF RateLimit conventions at once).',
      message: 'All 2XX and 4XX responses should define rate limiting headers (RateLimit or X-RateLimit-Limit).',
      severity: 'error',
      given: '$.paths[*]..responses[?(@property.match(/^(2|4)/))]',
      then: {
        field: 'headers',
        function: schema,
        functionOptions: {
          schema: { type: 'object', anyOf: [{ required: ['RateLimit'] }, { required: ['RateLimit-Limit', 'RateLimit-Reset'] }, { required: ['X-RateLimit-Limit'] }, { required: ['X-Rate-Limit-Limit'] }] },
        },
      },
    },
    // OWASP's rule refuses every http:// server. The template's default server is the local
    // development one (http://127.0.0.1:8787): a loopback address never crosses a network, and
    // `routergpt openapi build` refuses anything but https for every other environment (the GPT
    // Actions rule `single-server` says the same). Replaced by: https, or http on loopback only.
    'owasp:api8:2023-no-server-http': 'off',
    [ROUTERGPT_RULES.serverHttps]: {
      description: 'Server URLs use https (owasp:api8:2023-no-server-http); plain http only on a loopback address (the local template).',
      message: 'Server URLs must use https:// (http:// only for localhost, 127.0.0.1 or [::1]).',
      severity: 'error',
      given: '$.servers[*].url',
      then: { function: pattern, functionOptions: { match: '^(https://|wss://|http://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]+)?(/|$))' } },
    },
  },
  overrides: [
    {
      // What the server WRITES: shop names and addresses, the assistant's replies, error messages.
      // Free text that no format or pattern describes; every one of these strings is bounded
      // (maxLength: owasp:api4:2023-string-limit stays on, as errors) and additionalProperties is
      // false. The restriction stays on for everything the API ACCEPTS (the *Request schemas).
      files: ['Error', 'Health', 'ShopResult', 'SearchResponse', 'Shop', 'DelegateResponse', 'Booking', 'ChatResponse', 'FeedbackResponse'].map((name) => `**#/components/schemas/${name}`),
      rules: { 'owasp:api4:2023-string-restricted': 'off' },
    },
    {
      // GET /health is public on purpose (load balancers and uptime probes call it without a
      // key; src/server/plugins/security.ts DEFAULT_PUBLIC_PATHS), so it can never answer 401,
      // and it takes no input, so it has no 400/422 to declare. Its 429, 500 and 503 are declared.
      files: ['**#/paths/~1health'],
      rules: {
        'owasp:api2:2023-read-restricted': 'off',
        'owasp:api8:2023-define-error-responses-401': 'off',
        'owasp:api8:2023-define-error-validation': 'off',
      },
    },
  ],
} satisfies RulesetDefinition;
