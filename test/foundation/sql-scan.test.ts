/** The migrator's one SQL scanner (splitStatements and the baseline's parser both use it). */
import { describe, expect, it } from 'vitest';
import { scanSql, splitStatements } from '../../src/db/migrator/sql-split.js';

const SQL = `-- a comment; with a semicolon
CREATE TABLE "odd;name" (note text DEFAULT 'it''s; fine');
/* block; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
SELECT $1::int, a$b FROM t;`;

describe('scanSql', () => {
  it('gives the input back, token by token', () => {
    expect([...scanSql(SQL)].map((t) => t.text).join('')).toBe(SQL);
  });
  it('keeps ; inside comments, strings, quoted identifiers and dollar quotes', () => {
    const kinds = [...scanSql(SQL)].filter((t) => t.kind !== 'code').map((t) => [t.kind, t.text]);
    expect(kinds).toEqual([
      ['comment', '-- a comment; with a semicolon\n'],
      ['quoted-ident', '"odd;name"'],
      ['string', "'it''s; fine'"],
      ['comment', '/* block; comment */'],
      ['dollar-string', '$body$ SELECT 1; $body$'],
    ]);
  });
  it('splits into statements at the code semicolons only', () => {
    expect(splitStatements(SQL)).toEqual([
      `-- a comment; with a semicolon\nCREATE TABLE "odd;name" (note text DEFAULT 'it''s; fine')`,
      '/* block; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$',
      'SELECT $1::int, a$b FROM t',
    ]);
  });
});
