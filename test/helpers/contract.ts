/**
 * What openapi/openapi_chatgpt.yaml promises about one response, as a list of problems (empty
 * when it conforms): the status is documented for the operation, the content type is the
 * documented one, the body validates against the documented schema, the headers it marks
 * required are there. The fuzz suite collects these instead of stopping at the first.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced OpenAPI document
export type OpenapiDocument = Record<string, any>;

export interface Exchange {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function loadContract(): Promise<OpenapiDocument> {
  return (await SwaggerParser.dereference(OPENAPI_TEMPLATE_PATH)) as OpenapiDocument;
}

export function createContractChecker(doc: OpenapiDocument): (method: string, path: string, exchange: Exchange) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uuid', UUID_RE);
  // OpenAPI's numeric formats (ajv knows none of them).
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
  const compiled = new Map<object, ValidateFunction>();
  const validator = (schema: object) => {
    let v = compiled.get(schema);
    if (!v) compiled.set(schema, (v = ajv.compile(schema)));
    return v;
  };

  return (method, path, ex) => {
    const op = doc.paths?.[path]?.[method.toLowerCase()];
    if (!op) return [`${method} ${path} is not in the document`];
    const response = op.responses[String(ex.status)];
    if (!response) return [`${method} ${path} answered ${ex.status}, which the document does not list`];
    const problems: string[] = [];
    const media = Object.keys(response.content ?? {});
    if (media.length > 0) {
      if (!media.some((m) => ex.contentType.startsWith(m))) problems.push(`${ex.status}: content-type ${JSON.stringify(ex.contentType)} not in ${media.join(', ')}`);
      const schema = response.content[media[0]!].schema;
      if (schema && ex.contentType.includes('json')) {
        const validate = validator(schema);
        if (!validate(ex.body)) problems.push(`${ex.status} body does not match its schema: ${ajv.errorsText(validate.errors)}`);
      }
    }
    // A header the document marks required must be there (CORS headers, say, are sent only to an allowed Origin).
    for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, { required?: boolean }>)) {
      if (header.required === true && ex.headers[name.toLowerCase()] === undefined) problems.push(`${ex.status} lacks the required header ${name}`);
    }
    return problems;
  };
}
