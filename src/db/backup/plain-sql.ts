import type { PoolClient } from '../pool.js';

/**
 * Plain-SQL dumps (what the WebAssembly pg_dump of pglite-tools writes) and how we replay them.
 *
 * We replay a dump through a `pg` connection as ONE simple-protocol query inside our own
 * transaction — the dump is INSERTs only (no COPY … FROM stdin), so no psql is needed, and a
 * failure leaves the database as it was. Three rewrites make that safe:
 *
 *  - The dump's top-level `SET x = …` and `set_config('search_path', '', false)` are
 *    session-wide. On the embedded database every connection shares ONE backend, so they would
 *    leak into the server's connections; they become `SET LOCAL` / is_local = true.
 *  - `SET transaction_timeout` exists from PostgreSQL 17 on: dropped for older servers.
 *  - The emptied search_path breaks restoring an index on `ll_to_earth()` into PostgreSQL 15
 *    (earthdistance calls cube functions unqualified there): it becomes 'pg_catalog, public',
 *    which resolves built-ins exactly as the empty path does (pg_catalog first) and still finds
 *    the extension's functions.
 *
 * (See FACTS.md, "Embedded PostgreSQL".)
 */
export const DUMP_TRAILER = '-- PostgreSQL database dump complete';

// Only the settings pg_dump writes; a data line that merely looks like SET is left alone.
const DUMP_SETTINGS = [
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'transaction_timeout',
  'client_encoding',
  'standard_conforming_strings',
  'check_function_bodies',
  'xmloption',
  'client_min_messages',
  'row_security',
  'default_tablespace',
  'default_table_access_method',
  'default_with_oids',
];
const SETTING_LINE = new RegExp(`^SET (${DUMP_SETTINGS.join('|')}) = ([^;\\n]*);$`, 'gm');
const SEARCH_PATH_LINE = /^SELECT pg_catalog\.set_config\('search_path', '', false\);$/gm;
const PSQL_RESTRICT = /^\\(?:un)?restrict\b.*$/gm;

export interface RewriteOptions {
  /** Major version of the server the dump is restored into. */
  targetMajor: number;
}

export function rewritePlainDump(sql: string, { targetMajor }: RewriteOptions): string {
  return sql
    .replace(PSQL_RESTRICT, '')
    .replace(SETTING_LINE, (_line, name: string, value: string) => (name === 'transaction_timeout' && targetMajor < 17 ? `-- (dropped for PostgreSQL ${targetMajor}) SET ${name} = ${value};` : `SET LOCAL ${name} = ${value};`))
    .replace(SEARCH_PATH_LINE, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, public', true);");
}

/** A cheap sanity parse of a plain dump: non-empty, a pg_dump header, and the trailer. */
export function checkPlainDump(sql: string): string | undefined {
  if (sql.trim() === '') return 'the file is empty';
  if (!sql.startsWith('--\n-- PostgreSQL database dump')) return 'it does not start with the pg_dump header';
  if (!sql.trimEnd().endsWith('--') || !sql.includes(DUMP_TRAILER)) return `it does not end with "${DUMP_TRAILER}" (truncated?)`;
  return undefined;
}

/**
 * Drop everything in schema public and recreate it with the same owner and privileges — the
 * dump's objects then go into an empty schema, and objects created after the backup (a newer
 * migration's tables) do not survive the restore. Runs in the caller's transaction.
 */
export async function resetPublicSchema(client: Pick<PoolClient, 'query'>): Promise<void> {
  const { rows } = await client.query<{ owner: string; grants: Array<{ grantee: string; privilege: string }> | null }>(
    `SELECT pg_get_userbyid(n.nspowner) AS owner,
            (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                                               'privilege', a.privilege_type))
               FROM aclexplode(n.nspacl) a
              WHERE a.grantee <> n.nspowner) AS grants
       FROM pg_namespace n WHERE n.nspname = 'public'`,
  );
  const info = rows[0];
  await client.query('DROP SCHEMA IF EXISTS public CASCADE');
  await client.query('CREATE SCHEMA public');
  if (!info) {
    await client.query('GRANT USAGE ON SCHEMA public TO PUBLIC');
    return;
  }
  await client.query(`ALTER SCHEMA public OWNER TO ${quoteRole(info.owner)}`);
  for (const grant of info.grants ?? []) await client.query(`GRANT ${grant.privilege} ON SCHEMA public TO ${grant.grantee}`);
}

function quoteRole(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
