export type SqlTokenKind = 'comment' | 'string' | 'quoted-ident' | 'dollar-string' | 'code';

/**
 * The one SQL scanner of the migrator: comments (line and block), string literals, quoted
 * identifiers and dollar-quoted bodies, each as one token, and the code between them (which
 * may hold `;`). Concatenating the tokens gives the input back.
 */
export function* scanSql(sql: string): Generator<{ kind: SqlTokenKind; text: string }> {
  let i = 0;
  let code = '';
  const take = (kind: SqlTokenKind, stop: number) => {
    const text = sql.slice(i, stop);
    i = stop;
    return { kind, text };
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    let token: { kind: SqlTokenKind; text: string } | undefined;
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      token = take('comment', end === -1 ? sql.length : end + 1);
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      token = take('comment', end === -1 ? sql.length : end + 2);
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === ch && sql[j + 1] === ch) j += 2;
        else if (sql[j] === ch) break;
        else j += 1;
      }
      token = take(ch === '"' ? 'quoted-ident' : 'string', Math.min(sql.length, j + 1));
    } else if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // `$tag$ … $tag$`; not `$1` (a parameter) nor the `$` inside an identifier.
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        token = take('dollar-string', end === -1 ? sql.length : end + tag.length);
      }
    }
    if (token) {
      if (code) yield { kind: 'code', text: code };
      code = '';
      yield token;
    } else {
      code += ch;
      i += 1;
    }
  }
  if (code) yield { kind: 'code', text: code };
}

/**
 * Split a SQL script into statements, respecting quotes, quoted identifiers, dollar quotes
 * and comments. Needed for files that must run outside a transaction: PostgreSQL runs a
 * multi-statement simple query as one implicit transaction, where CREATE INDEX CONCURRENTLY
 * is refused.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  for (const token of scanSql(sql)) {
    if (token.kind !== 'code') {
      current += token.text;
      continue;
    }
    const parts = token.text.split(';');
    current += parts[0];
    for (const part of parts.slice(1)) {
      if (hasCode(current)) statements.push(current.trim());
      current = part;
    }
  }
  if (hasCode(current)) statements.push(current.trim());
  return statements;
}

/** True when text holds something other than whitespace and comments. */
function hasCode(text: string): boolean {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim().length > 0;
}

/** Statements PostgreSQL refuses inside a transaction block. */
export function needsNoTransaction(sql: string): boolean {
  const code = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return /\b(CREATE|DROP|REINDEX)\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b/i.test(code) || /\bREINDEX\b[^;]*\bCONCURRENTLY\b/i.test(code) || /\bALTER\s+TYPE\b[^;]*\bADD\s+VALUE\b/i.test(code) || /\bVACUUM\b/i.test(code) || /--\s*routergpt:no-transaction/i.test(sql);
}

/** Names of indexes a file builds concurrently (a failed build leaves them INVALID). */
export function concurrentIndexNames(sql: string): string[] {
  const names: string[] = [];
  const re = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("?)([A-Za-z_][\w$]*)\1/gi;
  for (const match of sql.matchAll(re)) names.push(match[2]!);
  return names;
}
