import { defineCheck, fail, pass, warn } from '../define-check.js';

/**
 * The checklist's "Environment variables set": reports which are present and where from —
 * never their values.
 */
export default defineCheck({
  id: 'config.env-vars',
  title: 'Environment variables set',
  needs: [],
  stages: ['pre'],
  async run({ config }) {
    const missing: string[] = [];
    const advisories: string[] = [];
    const present: string[] = [];
    const db = config.database.value;
    if (db.kind === 'url') {
      if (db.url) present.push(`${db.variable}: set (${config.database.origin})`);
      else missing.push(`${db.variable}: the database URL`);
    } else present.push(`database: embedded (${config.name})`);
    if (config.name !== 'local') {
      if (config.publicApiBase.value) present.push(`PUBLIC_API_BASE: set (${config.publicApiBase.origin})`);
      else missing.push('PUBLIC_API_BASE: the public https URL of the API');
      if (config.allowedOrigins.source === 'default') advisories.push('ALLOWED_ORIGINS: not set; only the ChatGPT origins are allowed (add your front end)');
      else present.push(`ALLOWED_ORIGINS: set (${config.allowedOrigins.origin})`);
      if (!config.openaiApiKey.value) advisories.push('OPENAI_API_KEY: not set; the offline assistant will answer chats');
      else present.push(`OPENAI_API_KEY: set (${config.openaiApiKey.origin})`);
    }
    // Only when the environment geocodes with Google: offline (the default) and Nominatim need no key.
    if (config.geocoding.providers.value.includes('google')) {
      const key = config.geocoding.google.apiKey;
      if (key.value) present.push(`GOOGLE_MAPS_API_KEY: set (${key.origin})`);
      else missing.push(`GOOGLE_MAPS_API_KEY: geocoding.provider names google (${config.geocoding.providers.origin})`);
    }
    const details = [...missing.map((m) => `missing ${m}`), ...advisories.map((a) => `note ${a}`), ...present];
    if (missing.length > 0) {
      return fail(`${missing.length} required variable(s) missing: ${missing.map((m) => m.split(':')[0]).join(', ')}`, { details, hint: 'Set them in the environment or .env (see .env.example), then `routergpt config show`.' });
    }
    if (advisories.length > 0) return warn(`required variables set; ${advisories.length} advisory`, { details });
    return pass(`required variables set for ${config.name}`, { details });
  },
});
