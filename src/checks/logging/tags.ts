import { open, stat } from 'node:fs/promises';
import { findSecrets } from '../security/secrets-not-committed.js';
import { defineCheck, fail, pass, warn, type CheckDeps } from '../define-check.js';

const DEFAULT_TAIL_BYTES = 5 * 1024 * 1024;

/** The last `bytes` of a file from a line start, and the 1-based number of its first line. */
export async function tail(file: string, bytes: number): Promise<{ text: string; firstLine: number; truncated: boolean }> {
  const size = (await stat(file)).size;
  const start = Math.max(0, size - bytes);
  const handle = await open(file, 'r');
  try {
    // Count the lines before the tail, so findings name real line numbers.
    let firstLine = 1;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let pos = 0; pos < start; ) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, start - pos), pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) if (chunk[i] === 10) firstLine++;
      pos += bytesRead;
    }
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.toString('utf8');
    if (start > 0) {
      // Drop the partial first line.
      const nl = text.indexOf('\n');
      text = nl === -1 ? '' : text.slice(nl + 1);
      firstLine++;
    }
    return { text, firstLine, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}

/** Credentials beyond the key shapes: any Authorization value not redacted, and this environment's own keys. */
function extraSecrets(line: string, deps: CheckDeps): string | undefined {
  if (/"authorization"\s*:\s*"(?!\[Redacted\])[^"]+"/i.test(line) || /\bauthorization:\s*(?:bearer|basic)\s+(?!\[Redacted\])\S{6,}/i.test(line)) return 'an Authorization header value';
  for (const [name, value] of [['OPENAI_API_KEY', deps.config.openaiApiKey.value], ['ROUTERGPT_API_KEY', deps.config.apiKey.value]] as const) {
    if (value && value.length >= 6 && line.includes(value)) return `the value of ${name}`;
  }
  return undefined;
}

function isErrorWithoutStack(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const entry = JSON.parse(line) as { level?: unknown; err?: { stack?: unknown }; stack?: unknown; error?: { stack?: unknown } };
    const level = typeof entry.level === 'number' ? entry.level : undefined;
    if (level === undefined || level < 50) return false;
    return typeof entry.err?.stack !== 'string' && typeof entry.stack !== 'string' && typeof entry.error?.stack !== 'string';
  } catch {
    return false;
  }
}

/**
 * The checklist's "Logging configured": [ROUTER], [BOOKING] and [ANALYTICS] lines in the
 * configured log file, error lines with stack traces, and no secret in it (only line numbers
 * are reported, never the values).
 */
export default defineCheck({
  id: 'logging.tags',
  title: 'Logs tagged [ROUTER]/[BOOKING]/[ANALYTICS], no secrets',
  needs: ['log'],
  stages: ['post'],
  params: ['tailBytes'],
  async run(deps) {
    const file = deps.config.logFile.value!;
    let read: Awaited<ReturnType<typeof tail>>;
    try {
      read = await tail(file, Number(deps.params?.tailBytes ?? DEFAULT_TAIL_BYTES));
    } catch (error) {
      return fail(`cannot read the log file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: `Point log_file / ROUTERGPT_LOG_FILE (${deps.config.logFile.origin}) at the file the server writes.` });
    }
    const lines = read.text.split('\n');
    const counts = { '[ROUTER]': 0, '[BOOKING]': 0, '[ANALYTICS]': 0 };
    const secrets: string[] = [];
    const noStack: number[] = [];
    const found = findSecrets(read.text);
    for (const s of found) secrets.push(`line ${read.firstLine + s.line - 1}: looks like a ${s.name}`);
    lines.forEach((line, i) => {
      for (const tag of Object.keys(counts) as Array<keyof typeof counts>) if (line.includes(tag)) counts[tag] += 1;
      const extra = extraSecrets(line, deps);
      if (extra) secrets.push(`line ${read.firstLine + i}: contains ${extra}`);
      if (isErrorWithoutStack(line)) noStack.push(read.firstLine + i);
    });
    const scope = `${read.truncated ? 'the last ' + Math.round(Number(deps.params?.tailBytes ?? DEFAULT_TAIL_BYTES) / 1024 / 1024) + ' MB of ' : ''}${file}`;
    const details = [`${lines.filter(Boolean).length} lines read from ${scope}`, ...Object.entries(counts).map(([t, n]) => `${t}: ${n} line(s)`)];
    const data = { ...counts, errorsWithoutStack: noStack.length, secrets: secrets.length };
    if (secrets.length > 0) {
      return fail(`${secrets.length} secret(s) in the log`, { details: [...secrets, ...details], data, hint: 'Redact them at the logger (pino redact paths / the secrets list in src/server/logger.ts), rotate the exposed keys, and purge the log file.' });
    }
    if (counts['[ROUTER]'] === 0) return fail(`no [ROUTER] lines in ${scope}`, { details, data, hint: 'Check the server logs to this file (log_file / ROUTERGPT_LOG_FILE) at level info, then run `routergpt smoke`.' });
    const missing = (['[BOOKING]', '[ANALYTICS]'] as const).filter((t) => counts[t] === 0);
    if (missing.length > 0 || noStack.length > 0) {
      const parts = [missing.length > 0 ? `no ${missing.join(' or ')} lines (they appear after a booking / an analytics flush)` : '', noStack.length > 0 ? `${noStack.length} error line(s) without a stack trace (lines ${noStack.slice(0, 10).join(', ')})` : ''].filter(Boolean);
      return warn(parts.join('; '), { details, data, hint: noStack.length > 0 ? 'Log errors as `log.error({ err }, msg)` so pino writes err.stack.' : 'Complete a booking (api.chat-router-context where test bookings are allowed), then check again.' });
    }
    return pass(`${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}; no secrets${read.truncated ? ' in the last 5 MB' : ''}`, { details, data });
  },
});
