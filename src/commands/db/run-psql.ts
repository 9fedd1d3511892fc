import { ConfigError } from '../../errors.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';

export interface PsqlOptions {
  config: EnvironmentConfig;
  args: string[];
}

/**
 * Open psql on the environment's database. The connection goes through PG* environment
 * variables, never argv, so the password does not show in `ps` or in error messages.
 */
export async function runPsql({ config, args }: PsqlOptions): Promise<number> {
  const { execa } = await import('execa');
  return withDatabase(
    config,
    async (db) => {
      const url = new URL(db.url);
      const env = {
        PGHOST: url.hostname,
        PGPORT: url.port || '5432',
        PGUSER: decodeURIComponent(url.username || 'postgres'),
        PGPASSWORD: decodeURIComponent(url.password),
        PGDATABASE: decodeURIComponent(url.pathname.slice(1) || 'postgres'),
        PGAPPNAME: 'routergpt db psql',
        ...(url.searchParams.get('sslmode') ? { PGSSLMODE: url.searchParams.get('sslmode')! } : {}),
      };
      try {
        // Asynchronous on purpose: for the embedded database this process serves the socket psql talks to.
        const child = await execa('psql', args, { env, stdio: 'inherit', reject: false });
        return child.exitCode ?? 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError('psql is not installed or not on PATH.', 'Install the PostgreSQL client (apt-get install postgresql-client).');
        throw error;
      }
    },
    { poolSize: 1, applicationName: 'routergpt db psql' },
  );
}
