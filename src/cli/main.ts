// The CLI entry point — the only module that sets the exit code (STYLE.md §2).
import v8 from 'node:v8';
import { killTrackedChildren } from '../lib/children.js';
import { ExitCode } from './exit-codes.js';
import { interruptsClaimed } from './interrupts.js';
import { processIO, type IO } from './io.js';
import { loadProgram } from './program-root.js';
import { renderError } from './render-error.js';

/** After a second Ctrl-C the command gets this long to record the run as cancelled, then we exit anyway. */
const FORCED_EXIT_MS = 5000;

// A regular expression runs in V8's interpreter until it has run this many times, then is compiled
// to machine code (V8's default is once). A command runs most of its expressions a few times, and
// a few are huge: chrono-node's relative-time patterns take ≈ 100 ms each to compile on their
// second use, which a deploy's chat smoke check paid on every run (issue 16). Hot expressions
// (a YAML lexer's, the secret scan's) still get compiled, after their first runs.
v8.setFlagsFromString('--regexp-tier-up-ticks=20');

const argv = process.argv;
const verbose = argv.includes('--verbose');
const json = argv.includes('--json');
const colorFlag = argv.includes('--no-color') ? false : undefined;
const interrupt = new AbortController();
const force = new AbortController();
const io: IO = { ...processIO(colorFlag, interrupt.signal), forceSignal: force.signal };

// A closed pipe (`routergpt --help | head`) ends the output, not the program with a stack trace:
// exit as `yes | head` does, quietly, with the status a reader of the pipe expects.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

// The last resort for an error nothing awaited (an 'error' event no listener took): the children
// we started (pg_dump, deploy commands, in their own process groups) must not outlive us.
process.on('uncaughtException', (error) => {
  void killTrackedChildren('SIGKILL');
  const code = renderError(io, error, { verbose, json, secrets: [process.env.OPENAI_API_KEY, process.env.GOOGLE_MAPS_API_KEY, process.env.ROUTERGPT_API_KEY, process.env.RESEND_API_KEY] });
  process.exit(code);
});

let interrupts = 0;
process.on('SIGINT', () => {
  // `serve` handles its own signals (graceful shutdown, then exit 130 — or 0 on SIGTERM): stay out of its way.
  if (interruptsClaimed()) return;
  interrupts += 1;
  process.exitCode = ExitCode.cancelled;
  if (interrupts === 1) {
    // The first Ctrl-C lets running work stop cleanly: the current item finishes (its children
    // are in their own process group, so the terminal's signal does not reach them).
    interrupt.abort();
    io.stderr.write('\nroutergpt: cancelling at the next safe point… (press Ctrl-C again to force)\n');
    return;
  }
  if (interrupts === 2) {
    // The second one stops the running item's children — they would outlive us otherwise — and
    // lets the command journal the run `cancelled`; bounded, so a step with no child to stop
    // cannot keep us waiting (the journal then says `running`, and --resume runs it again).
    force.abort();
    io.stderr.write('\nroutergpt: stopping the running item and recording the run as cancelled… (press Ctrl-C again to exit at once)\n');
    void killTrackedChildren();
    setTimeout(() => {
      void killTrackedChildren('SIGKILL');
      process.exit(ExitCode.cancelled);
    }, FORCED_EXIT_MS).unref();
    return;
  }
  void killTrackedChildren('SIGKILL');
  process.exit(ExitCode.cancelled);
});

try {
  await (await loadProgram(io, argv.slice(2))).parseAsync(argv);
  if (interrupts) process.exitCode = ExitCode.cancelled;
} catch (error) {
  const env = process.env;
  const code = renderError(io, error, {
    verbose,
    json,
    secrets: [env.OPENAI_API_KEY, env.GOOGLE_MAPS_API_KEY, env.ROUTERGPT_API_KEY, env.RESEND_API_KEY],
  });
  process.exitCode = interrupts ? ExitCode.cancelled : code;
}
