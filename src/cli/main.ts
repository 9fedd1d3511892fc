// The CLI entry point — the only module that sets the exit code (STYLE.md §2).
import { ExitCode } from './exit-codes.js';
import { interruptsClaimed } from './interrupts.js';
import { processIO } from './io.js';
import { buildProgram } from './program.js';
import { renderError } from './render-error.js';

const argv = process.argv;
const verbose = argv.includes('--verbose');
const json = argv.includes('--json');
const colorFlag = argv.includes('--no-color') ? false : undefined;
const interrupt = new AbortController();
const io = processIO(colorFlag, interrupt.signal);

let interrupted = false;
process.on('SIGINT', () => {
  // `serve` handles its own signals (graceful shutdown, exit 0): stay out of its way.
  if (interruptsClaimed()) return;
  // The first Ctrl-C lets running work stop cleanly (finally blocks close databases); a second one forces it.
  if (interrupted) process.exit(ExitCode.cancelled);
  interrupted = true;
  interrupt.abort();
  io.stderr.write('\nroutergpt: cancelling at the next safe point… (press Ctrl-C again to force)\n');
  process.exitCode = ExitCode.cancelled;
});

try {
  await buildProgram(io).parseAsync(argv);
  if (interrupted) process.exitCode = ExitCode.cancelled;
} catch (error) {
  const env = process.env;
  const code = renderError(io, error, {
    verbose,
    json,
    secrets: [env.OPENAI_API_KEY, env.GOOGLE_MAPS_API_KEY, env.ROUTERGPT_API_KEY, env.RESEND_API_KEY],
  });
  process.exitCode = interrupted ? ExitCode.cancelled : code;
}
