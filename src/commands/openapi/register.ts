import type { Command } from 'commander';
import { ChecksFailedError } from '../../errors.js';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson } from '../../cli/render/output.js';
import type { RuleOutcome } from '../../openapi/gpt-actions-rules.js';

function printRules(io: IO, rules: RuleOutcome[]): void {
  for (const rule of rules) {
    io.stdout.write(`${rule.status === 'pass' ? '✔ pass' : '✖ fail'}  ${rule.id} — ${rule.title}\n`);
    for (const problem of rule.problems) io.stdout.write(`        ${problem}\n`);
    for (const warning of rule.warnings ?? []) io.stdout.write(`        ⚠ ${warning}\n`);
  }
}

export function registerOpenapi(program: Command, io: IO): void {
  const openapi = program.command('openapi').description('build and validate the OpenAPI document the Custom GPT imports');

  openapi
    .command('build')
    .description("write openapi_chatgpt_<env>.yaml with the environment's PUBLIC_API_BASE as the server")
    .option('-o, --output <file>', 'where to write (default: ./openapi_chatgpt_<env>.yaml)')
    .action(
      action<{ output?: string }>(io, async (ctx, opts) => {
        // The document needs the public base and the API key, never the database.
        const { config } = await ctx.loadConfig({ requireDatabase: false });
        const { runOpenapiBuild } = await import('./run-openapi-build.js');
        const result = await runOpenapiBuild({ config, cwd: ctx.io.cwd, output: opts.output });
        if (ctx.globals.json) printJson(ctx.io, result);
        else if (result.written) {
          ctx.io.stdout.write(`${result.file}\n`);
          note(ctx.io, `${result.env}: server ${result.serverUrl} (${result.serverOrigin}); API key ${result.requireAuth ? 'required' : 'optional (ROUTERGPT_API_KEY not set)'}`);
          note(ctx.io, `next: \`routergpt openapi validate ${result.file}\`, then import it in the GPT editor (Actions → Import).`);
        } else {
          printRules(ctx.io, result.rules);
          note(ctx.io, `not written: the document breaks GPT Actions rules (above). Fix openapi/openapi_chatgpt.yaml.`);
        }
        if (!result.written) throw new ChecksFailedError('openapi build failed');
      }),
    );

  openapi
    .command('validate')
    .description('check an OpenAPI file with swagger-parser, the GPT Actions rules and Spectral (oas + OWASP API Security rulesets, offline; default: the packaged template)')
    .argument('[file]', 'the file to check, e.g. openapi_chatgpt_prod.yaml')
    .action(
      action<Record<string, never>>(io, async (ctx, _opts, command) => {
        const [file] = command.args as [string | undefined];
        const path = await import('node:path');
        const { OPENAPI_TEMPLATE_PATH } = await import('../../openapi/document.js');
        const { runOpenapiValidate } = await import('./run-openapi-validate.js');
        const result = await runOpenapiValidate({ file: file ? path.resolve(ctx.io.cwd, file) : OPENAPI_TEMPLATE_PATH });
        if (ctx.globals.json) printJson(ctx.io, result);
        else {
          note(ctx.io, result.file);
          printRules(ctx.io, result.rules);
        }
        if (result.status === 'fail') throw new ChecksFailedError('openapi validation failed');
      }),
    );
}
