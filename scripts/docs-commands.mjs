// npm run docs:commands — rewrite the generated usage blocks of docs/commands.md from the command tree.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { syncCommandDocs } from '../dist/cli/command-docs.js';
import { buildProgram } from '../dist/cli/program.js';

const file = path.resolve(import.meta.dirname, '..', 'docs', 'commands.md');
const io = { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: process.cwd() };
const before = readFileSync(file, 'utf8');
const { text, missing } = syncCommandDocs(before, buildProgram(io));
if (missing.length) console.error(`docs/commands.md has no section for: ${missing.join(', ')} (add a "### <command>" heading and a sentence)`);
if (text !== before) writeFileSync(file, text);
console.log(text === before ? 'docs/commands.md: up to date' : 'docs/commands.md: usage blocks rewritten');
process.exitCode = missing.length ? 1 : 0;
