import { readFile } from 'node:fs/promises';
import { parseYamlCached } from '../../lib/yaml-cache.js';

type Read = { doc: Record<string, unknown>; text: string } | string;

/**
 * The last parse of each file in this process, by its exact text: openapi.valid,
 * openapi.gpt-actions and openapi.matches-server each read the document, in `verify` and in every
 * check group of a run, and YAML parsing was a fifth of verify's CPU. Reading the file again is
 * cheap; a file whose text changed is parsed again — through the on-disk cache of parses
 * (src/lib/yaml-cache.ts), so the next process reads JSON instead.
 */
const parsed = new Map<string, { text: string; read: Read }>();

/** Read and parse the OpenAPI document (parsed once per process while its text is unchanged); a YAML error is a string. Each caller gets its own copy of the document. */
export async function readDocument(file: string): Promise<Read> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  let entry = parsed.get(file);
  if (entry?.text !== text) {
    entry = { text, read: parse(file, text) };
    parsed.set(file, entry);
  }
  const { read } = entry;
  return typeof read === 'string' ? read : { doc: structuredClone(read.doc), text: read.text };
}

function parse(file: string, text: string): Read {
  try {
    const doc = parseYamlCached(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return `${file} is not a YAML mapping`;
    return { doc: doc as Record<string, unknown>, text };
  } catch (error) {
    return `${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`;
  }
}
