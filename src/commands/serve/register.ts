import type { Command } from 'commander';
import { CancelledError, UsageError } from '../../errors.js';
import { claimInterrupts } from '../../cli/interrupts.js';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note } from '../../cli/render/output.js';

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--port expects a number from 0 to 65535 (got "${value}").`, 'Use e.g. --port 8787 (0 picks a free port).');
  return port;
}

export function registerServe(program: Command, io: IO): void {
  program
    .command('serve')
    .description('run the RouterGPT API server (on local: the embedded database, migrated and seeded automatically)')
    .option('-p, --port <port>', 'port to listen on (default: config server.port, PORT, or 8787)')
    .option('--host <host>', 'address to listen on (default: config server.host, HOST, or 127.0.0.1)')
    .action(
      action<{ port?: string; host?: string }>(io, async (ctx, opts) => {
        const port = parsePort(opts.port);
        const { config, env } = await ctx.loadConfig({ port, host: opts.host });
        claimInterrupts('serve');
        const { runServe } = await import('./run-serve.js');
        const { signal } = await runServe({
          config,
          env,
          port: config.server.value.port,
          host: config.server.value.host,
          onListening: (info) => {
            const prepared = [info.migrationsApplied ? `${info.migrationsApplied} migration(s) applied` : '', info.seededShops ? `${info.seededShops} demo shops seeded` : ''].filter(Boolean).join(', ');
            note(ctx.io, `routergpt serve (${config.name}): listening on ${info.url} — database ${info.database}${prepared ? ` — ${prepared}` : ''}. Stop with Ctrl-C or SIGTERM.`);
          },
        });
        // A service manager's stop (SIGTERM) is a normal end: exit 0, which systemd counts as clean.
        // Ctrl-C (SIGINT) exits 130, as every interrupted Unix command does — and as npm does
        // whatever its child returns, so `npx routergpt serve` and `routergpt serve` agree.
        if (signal === 'SIGINT') throw new CancelledError('routergpt serve: stopped cleanly after Ctrl-C (exit 130).', 'Start it again with `routergpt serve`.');
        note(ctx.io, 'routergpt serve: stopped cleanly');
      }),
    );
}
