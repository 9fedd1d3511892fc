import type { Check } from '../define-check.js';
import logTags from '../logging/tags.js';
import openapiGptActions from '../openapi/gpt-actions.js';
import openapiMatchesServer from '../openapi/matches-server.js';
import openapiValid from '../openapi/valid.js';
import privacyPolicyPublished from '../privacy/policy-published.js';
import securityInputValidation from '../security/input-validation.js';
import tlsCertificate from '../tls/certificate.js';
import apiChatRouterContext from './chat-router-context.js';
import apiCors from './cors.js';
import apiDelegate from './delegate.js';
import apiEmptyArea from './empty-area.js';
import apiHealth from './health.js';
import apiHsts from './hsts.js';
import apiHttpsRedirect from './https-redirect.js';
import apiInvalidCoordinates422 from './invalid-coordinates-422.js';
import apiPerformance from './performance.js';
import apiRateLimit from './rate-limit.js';
import apiSearch from './search.js';
import apiUnknownShop404 from './unknown-shop-404.js';

/**
 * API, TLS, OpenAPI, privacy and logging checks (the running server's side of the checklist),
 * in the order a person would run them: documents first (no server needed), then health, the
 * functional tests, errors, edge security, and last the two that spend budget — performance
 * and rate-limit (which exhausts its client's search budget on purpose). On a loopback API every
 * check is its own client (src/checks/api/http.ts), so they cannot starve each other; against a
 * remote API they share this machine's budget, and a check that meets 429 warns.
 */
export const API_CHECKS: readonly Check[] = [
  openapiValid,
  openapiGptActions,
  privacyPolicyPublished,
  tlsCertificate,
  apiHealth,
  apiSearch,
  apiDelegate,
  apiChatRouterContext,
  apiInvalidCoordinates422,
  apiUnknownShop404,
  apiEmptyArea,
  securityInputValidation,
  apiCors,
  apiHsts,
  apiHttpsRedirect,
  openapiMatchesServer,
  logTags,
  apiPerformance,
  apiRateLimit,
];
