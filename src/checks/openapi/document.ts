import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

/** Read and parse the OpenAPI document; a YAML error is a string. */
export async function readDocument(file: string): Promise<{ doc: Record<string, unknown>; text: string } | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  try {
    const doc = YAML.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return `${file} is not a YAML mapping`;
    return { doc: doc as Record<string, unknown>, text };
  } catch (error) {
    return `${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`;
  }
}
