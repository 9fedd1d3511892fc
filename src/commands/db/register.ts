import type { Command } from 'commander';
import { ChecksFailedError, UsageError } from '../../errors.js';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson } from '../../cli/render/output.js';

export function registerDb(program: Command, io: IO): void {
  const db = program.command('db').description('database utilities: psql, ping, seed');

  db.command('psql')
    .description('open psql on the environment\'s database (the embedded one included)')
    .argument('[psql-args...]', 'extra arguments for psql, after --')
    .action(
      action(io, async (ctx, _opts, command) => {
        const { config } = await ctx.loadConfig();
        const { runPsql } = await import('./run-psql.js');
        const code = await runPsql({ config, args: command.args });
        if (code !== 0) throw new ChecksFailedError(`psql exited with ${code}`);
      }),
    );

  db.command('ping')
    .description('connect to the database and print its version')
    .action(
      action(io, async (ctx) => {
        const { config } = await ctx.loadConfig();
        const { withDatabase } = await import('../../db/connect.js');
        const result = await withDatabase(config, async (database) => {
          const started = performance.now();
          const { rows } = await database.pool.query<{ server_version: string }>('SHOW server_version');
          return { env: config.name, database: database.display, serverVersion: rows[0]?.server_version ?? 'unknown', ms: Math.round(performance.now() - started) };
        });
        if (ctx.globals.json) return printJson(ctx.io, result);
        ctx.io.stdout.write(`ok: ${result.database} — PostgreSQL ${result.serverVersion} (${result.ms} ms)\n`);
      }),
    );

  db.command('seed')
    .description('load data into the database')
    .option('--demo', 'the demo shops around Phoenix/Tempe, including the five test shops the checklist purges')
    .action(
      action<{ demo?: boolean }>(io, async (ctx, opts) => {
        if (!opts.demo) throw new UsageError('Say what to seed.', 'Use `routergpt db seed --demo`.');
        const { config } = await ctx.loadConfig();
        if (config.protected.value) throw new UsageError(`Refusing to load demo shops into ${config.name} (a protected environment); nothing was changed.`, 'Seed a staging or local environment instead.');
        const [{ withDatabase }, { withTransaction }, { seedDemo }, { verifySchemaCurrent }] = await Promise.all([
          import('../../db/connect.js'),
          import('../../db/pool.js'),
          import('../../db/seed.js'),
          import('../../db/migrator/schema-current.js'),
        ]);
        const result = await withDatabase(config, async (database) => {
          await verifySchemaCurrent(database.pool, config);
          return withTransaction(database.pool, (client) => seedDemo(client));
        });
        if (ctx.globals.json) return printJson(ctx.io, result);
        note(ctx.io, `seeded ${config.name}: ${result.shops} shops, ${result.services} services, ${result.hours} opening-hours rows`);
      }),
    );
}
