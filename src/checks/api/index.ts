import type { Check } from '../define-check.js';

/** API, TLS, OpenAPI, privacy and logging checks (the running server's side of the checklist). */
export const API_CHECKS: readonly Check[] = [];
