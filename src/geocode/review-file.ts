import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/**
 * The file a person reviews between `geocode --dry-run --review FILE` and `geocode --apply FILE`:
 * one row per shop, CSV or JSON by the file's extension. The columns are fixed
 * (docs/geocoding.md "Review files"); `flags` is a list (`;`-separated in CSV).
 */
export const REVIEW_COLUMNS = ['slug', 'shop_updated_at', 'address_sent', 'latitude', 'longitude', 'accuracy', 'provider', 'flags'] as const;
export const REVIEW_SCHEMA = 'routergpt.geocode-review/v1';

export interface ReviewRow {
  slug: string;
  /** The shop's updated_at when it was reviewed: --apply refuses the row if it changed since. */
  shop_updated_at: string;
  address_sent: string;
  /** null: the provider had no answer (nothing is applied for the row). */
  latitude: number | null;
  longitude: number | null;
  accuracy: string | null;
  provider: string;
  flags: string[];
}

export interface ReviewFile {
  env: string;
  createdAt: string;
  attributions: string[];
  rows: ReviewRow[];
}

export type ReviewFormat = 'csv' | 'json';

export function reviewFormatOf(file: string): ReviewFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new UsageError(`The review file ${file} must end in .csv or .json (its format is taken from the extension).`, 'Name it e.g. geocode-review.csv or geocode-review.json.');
}

/** One CSV field, quoted when it must be (RFC 4180: a comma, a quote, CR or LF; quotes doubled). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF ends a record. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < body.length) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (c === ',') {
      endField();
      i += 1;
    } else if (c === '\r' && body[i + 1] === '\n') {
      endRecord();
      i += 2;
    } else if (c === '\n') {
      endRecord();
      i += 1;
    } else {
      if (c === '"') throw new Error(`a quote inside an unquoted field (record ${records.length + 1})`);
      field += c;
      i += 1;
    }
  }
  if (quoted) throw new Error('a quoted field is not closed');
  if (field !== '' || record.length > 0) endRecord();
  return records;
}

function csvValue(row: ReviewRow, column: (typeof REVIEW_COLUMNS)[number]): string {
  const value = row[column];
  if (column === 'flags') return row.flags.join(';');
  return value === null || value === undefined ? '' : String(value);
}

export function writeReviewFile(file: string, review: ReviewFile): ReviewFormat {
  const format = reviewFormatOf(file);
  if (format === 'json') {
    writeFileSync(file, `${JSON.stringify({ schema: REVIEW_SCHEMA, env: review.env, createdAt: review.createdAt, attributions: review.attributions, columns: REVIEW_COLUMNS, rows: review.rows }, null, 2)}\n`);
  } else {
    writeFileSync(file, toCsv([[...REVIEW_COLUMNS], ...review.rows.map((r) => REVIEW_COLUMNS.map((c) => csvValue(r, c)))]));
  }
  return format;
}

/** A row as read, before it is checked against the database: every field still text (or what JSON held). */
export interface RawReviewRow {
  /** 1-based: the CSV line's record number after the header, or the JSON array index + 1. */
  line: number;
  values: Record<string, unknown>;
}

/**
 * Read a review file into raw rows. A file that is not CSV/JSON of the review's columns is a
 * UsageError naming what is wrong; the rows' values are checked by the caller (validateReview).
 */
export function readReviewFile(file: string): RawReviewRow[] {
  const format = reviewFormatOf(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the review file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message}.`, 'Write one with `routergpt geocode --dry-run --review FILE`, then apply it with --apply FILE.');
  }
  const fix = 'Write it again with `routergpt geocode --dry-run --review FILE` (edit only values, keep the columns); nothing was changed.';
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`The review file ${file} is not valid JSON (${(error as Error).message}).`, fix);
    }
    const rows = Array.isArray(parsed) ? parsed : (parsed as { rows?: unknown })?.rows;
    if (!Array.isArray(rows)) throw new UsageError(`The review file ${file} has no "rows" list.`, fix);
    return rows.map((values, i) => ({ line: i + 1, values: values && typeof values === 'object' && !Array.isArray(values) ? (values as Record<string, unknown>) : { __invalid: JSON.stringify(values) } }));
  }
  let records: string[][];
  try {
    records = parseCsv(text).filter((r) => !(r.length === 1 && r[0] === ''));
  } catch (error) {
    throw new UsageError(`The review file ${file} is not valid CSV: ${(error as Error).message}.`, fix);
  }
  const header = records[0]?.map((h) => h.trim());
  const missing = REVIEW_COLUMNS.filter((c) => !header?.includes(c));
  if (!header || missing.length > 0) throw new UsageError(`The review file ${file} lacks the column(s) ${missing.join(', ')}: its header must be ${REVIEW_COLUMNS.join(',')}.`, fix);
  return records.slice(1).map((record, i) => {
    const values: Record<string, unknown> = {};
    if (record.length !== header.length) values.__invalid = `${record.length} fields, the header has ${header.length}`;
    header.forEach((h, j) => {
      values[h] = record[j] ?? '';
    });
    const flags = String(values.flags ?? '');
    values.flags = flags === '' ? [] : flags.split(';');
    return { line: i + 2, values };
  });
}
