/**
 * The running code matches the database schema, as the server itself reports it on /health
 * (`schema: {applied, expected, ahead}`, src/server/schema-status.ts). Read-only: one GET.
 * Every rollback ends with it: a migrations rollback that left the code needing a migration the
 * database no longer has is the failure it exists for.
 */
import { defineCheck, fail, pass, warn } from '../define-check.js';
import { brief, withApiClient } from './http.js';

interface ReportedSchema {
  applied: string | null;
  expected: string | null;
  ahead: boolean;
}

const isVersion = (v: unknown): v is string | null => v === null || (typeof v === 'string' && /^\d+$/.test(v));

function isReportedSchema(value: unknown): value is ReportedSchema {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return isVersion(s.applied) && isVersion(s.expected) && typeof s.ahead === 'boolean';
}

// Digit strings compared as numbers; no migration at all is lowest.
const rank = (version: string | null): number => (version === null ? -1 : Number(version));

const NEEDS_MIGRATION_HINT =
  'Apply the missing migrations with `routergpt migrate up` (against this environment\'s database), or roll the code back to the release that matches the schema (`routergpt rollback --tier code`).';

export default defineCheck({
  id: 'api.schema-matches',
  title: 'Running code matches the database schema',
  needs: ['api'],
  stages: ['pre', 'post'],
  async run(deps) {
    return withApiClient(deps, async (api) => {
      const res = await api.get('/health');
      const body = res.json as { schema?: unknown; database?: unknown; reason?: unknown } | undefined;
      if (body?.schema === undefined) {
        if (body?.database === 'unreachable') {
          return fail(`cannot tell which schema the server runs against: its database is unreachable${typeof body.reason === 'string' ? ` (${body.reason})` : ''}`, {
            details: [brief(res)],
            hint: 'Fix the database connection first (see api.health; `routergpt db ping`), then rerun.',
          });
        }
        return fail(`GET /health (${res.status}) has no "schema" field: this server predates schema reporting, so it cannot say whether its code matches the database`, {
          details: [brief(res)],
          hint: 'Deploy a release whose /health reports `schema`; until then compare `routergpt migrate status` with the release by hand.',
        });
      }
      if (!isReportedSchema(body.schema)) {
        return fail('GET /health has a malformed "schema" field (expected {applied, expected, ahead})', { details: [brief(res)], hint: 'Compare the server with openapi/openapi_chatgpt.yaml (see openapi.matches-server).' });
      }
      const { applied, expected, ahead } = body.schema;
      const data = { status: res.status, applied, expected, ahead };
      const details = [`applied (database): ${applied ?? 'none'}`, `expected (running code): ${expected ?? 'none'}`];
      if (rank(applied) < rank(expected)) {
        const at = applied === null ? 'the database has no migration applied' : `the database is at ${applied}`;
        return fail(`running code needs migration ${expected ?? 'none'}, ${at}`, { details, data, hint: NEEDS_MIGRATION_HINT });
      }
      if (rank(applied) > rank(expected) || ahead) {
        return warn(`the database is ahead of the running code: it is at ${applied ?? 'none'}, the code ships up to ${expected ?? 'none'}`, {
          details,
          data,
          hint: 'Fine while expanding/contracting (older code on a newer schema). Deploy the release that ships the newer migrations, or see `routergpt migrate status` for what the database has that the code does not.',
        });
      }
      return pass(applied === null ? 'no migrations shipped or applied' : `code and database both at migration ${applied}`, { details, data });
    });
  },
});
