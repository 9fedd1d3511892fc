/**
 * openapi.matches-server's view of the document: dereferenced (swagger-parser), with a compiled
 * ajv validator for every documented response body — made once per document on this machine.
 *
 * Dereferencing and compiling cost more than the rest of the check: loading swagger-parser and
 * ajv ≈ 100 ms, dereferencing ≈ 20 ms, compiling the response schemas ≈ 100 ms, on every
 * `verify` although the document rarely changes (issue 16). They are a function of the document,
 * this module's code, Node's and the two libraries' versions only, so the result is kept in the disk cache
 * (src/lib/disk-cache.ts, area `openapi-responses`): the dereferenced document as JSON and the
 * validators as ajv's standalone code, which needs only ajv's small runtime helpers to run. A
 * run with the entry loads neither library. The code is evaluated from a private cache directory
 * (0700; an area that is not this user's, or that others can write to, is not read) the way
 * ajv's standalone output is meant to be loaded, with `require` resolving from this package; an entry names its key, so a file put in place of another is not taken for it.
 * A document with a $ref outside itself is used, never stored (the answer depends on that file).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { listOperations } from '../../openapi/gpt-actions-rules.js';
import { routergptCacheDir } from '../../lib/cache-dir.js';
import { cacheKey, isPrivateDir, packageVersion, readEntry, sourceHash, writeEntry } from '../../lib/disk-cache.js';
import { UUID_RE } from '../api/http.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced OpenAPI document
type Json = Record<string, any>;

interface ValidatorError {
  instancePath: string;
  message?: string;
}
type Validator = ((data: unknown) => boolean) & { errors?: ValidatorError[] | null };

export interface ResponseContract {
  /** The document with every $ref resolved. */
  doc: Json;
  /** Why `body` does not match the schema documented for this response (ajv's errorsText), or null when it does. */
  mismatch(method: string, path: string, status: string, contentType: string, body: unknown): string | null;
}

/** The formats the schemas use, the same objects at compile time and when the standalone code runs. */
const FORMATS: Record<string, RegExp | true | ((s: string) => boolean)> = {
  uuid: UUID_RE,
  // OpenAPI's integer formats: the documented minimum/maximum are what bound the value.
  int32: true,
  int64: true,
  'date-time': (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
};
const FORMATS_MODULE = 'routergpt:response-formats';
const AJV_OPTIONS = { strict: false, allErrors: true };
const KEEP = 16;

const requireHere = createRequire(import.meta.url);
const responseKey = (method: string, p: string, status: string, type: string) => `${method.toUpperCase()} ${p} ${status} ${type}`;

interface Entry {
  doc: Json;
  /** Standalone CommonJS: `module.exports[String(i)]` validates `keys[i]`. */
  code: string;
  keys: string[];
}

/** Does a $ref name anything but this document? Then the result depends on another file or URL, and is not stored. */
function refersOutside(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(refersOutside);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([k, v]) => (k === '$ref' && typeof v === 'string' ? !v.startsWith('#') : refersOutside(v)));
}

/** The dereferenced document and its response validators; a string says why the document cannot be dereferenced. */
export async function loadResponseContract(doc: Json, cacheDir: string = routergptCacheDir()): Promise<ResponseContract | string> {
  // How an entry is made and read (this module, and listOperations: the entry's keys are its operations) is part of its key.
  const parts = [sourceHash(import.meta.url, ['./response-validators', '../../openapi/gpt-actions-rules']), process.version, `ajv@${packageVersion('ajv')}`, `swagger-parser@${packageVersion('@apidevtools/swagger-parser')}`];
  const cacheable = parts.every((p) => p !== '' && !p.endsWith('@')) && !refersOutside(doc);
  const key = cacheKey(...parts, JSON.stringify(AJV_OPTIONS), JSON.stringify(doc));
  const dir = path.join(cacheDir, 'openapi-responses');
  // Stored code is run only from an area no one else can write to.
  let entry = cacheable && isPrivateDir(dir) ? (readEntry(dir, key) as Entry | undefined) : undefined;
  if (!isEntry(entry)) {
    const built = await build(doc);
    if (typeof built === 'string') return built;
    entry = built.entry;
    if (cacheable && built.jsonSafe) writeEntry(dir, key, JSON.stringify(entry), KEEP);
  }
  const validators = evaluate(entry.code);
  const byKey = new Map(entry.keys.map((k, i) => [k, validators[String(i)]!]));
  return {
    doc: entry.doc,
    mismatch(method, p, status, contentType, body) {
      const validate = byKey.get(responseKey(method, p, status, contentType));
      if (!validate || validate(body)) return null;
      return errorsText(validate.errors);
    },
  };
}

function isEntry(value: unknown): value is Entry {
  const e = value as Entry | undefined;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && Array.isArray(e.keys) && typeof e.doc === 'object' && e.doc !== null;
}

/** ajv's errorsText: `data<path> <message>` joined by ", ". */
function errorsText(errors: ValidatorError[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'No errors';
  return errors.map((e) => `data${e.instancePath} ${e.message ?? ''}`.trimEnd()).join(', ');
}

function evaluate(code: string): Record<string, Validator> {
  const module = { exports: {} as Record<string, Validator> };
  const require = (id: string) => (id === FORMATS_MODULE ? FORMATS : requireHere(id));
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return module.exports;
}

/** Dereference and compile (loads swagger-parser and ajv). `jsonSafe`: the document survives JSON (no cycles), so it can be stored. */
async function build(doc: Json): Promise<{ entry: Entry; jsonSafe: boolean } | string> {
  const [{ default: SwaggerParser }, { Ajv2020 }, { default: standalone }, { _ }] = await Promise.all([
    import('@apidevtools/swagger-parser'),
    import('ajv/dist/2020.js'),
    import('ajv/dist/standalone/index.js'),
    import('ajv'),
  ]);
  let deref: Json;
  try {
    deref = (await SwaggerParser.dereference(structuredClone(doc) as never)) as Json;
  } catch (error) {
    return `cannot dereference the document: ${(error as Error).message}`;
  }
  // Each schema checks a handful of answers: unoptimised code compiles 2–3× faster (ajv's code.optimize), and the few validations do not notice.
  const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true, optimize: false, formats: _`require(${FORMATS_MODULE})` } });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format);
  const keys: string[] = [];
  for (const o of listOperations(deref)) {
    for (const [status, response] of Object.entries(((o.op as Json).responses ?? {}) as Json)) {
      const content = (response as Json)?.content as Json | undefined;
      const type = Object.keys(content ?? {})[0];
      const schema = type ? content![type]?.schema : undefined;
      if (typeof schema !== 'object' || schema === null) continue;
      ajv.addSchema(schema as object, String(keys.length));
      keys.push(responseKey(o.method, o.path, status, type!));
    }
  }
  const code = standalone.default(ajv, Object.fromEntries(keys.map((_k, i) => [String(i), String(i)])));
  let jsonSafe = false;
  try {
    jsonSafe = isDeepStrictEqual(JSON.parse(JSON.stringify(deref)), deref);
  } catch {
    /* a circular document: used, not stored */
  }
  return { entry: { doc: deref, code, keys }, jsonSafe };
}
