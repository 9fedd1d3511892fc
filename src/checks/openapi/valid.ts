import path from 'node:path';
import { listOperations } from '../../openapi/gpt-actions-rules.js';
import { defineCheck, fail, pass } from '../define-check.js';
import { readDocument } from './document.js';

export default defineCheck({
  id: 'openapi.valid',
  title: 'OpenAPI schema valid',
  needs: ['openapi-file'],
  stages: ['pre'],
  async run({ openapiFile }) {
    const file = openapiFile!;
    const read = await readDocument(file);
    const hint = `Fix ${path.basename(file)} (\`routergpt openapi validate ${path.basename(file)}\` lists every problem), or paste it into https://editor.swagger.io/.`;
    if (typeof read === 'string') return fail(read, { hint });
    try {
      // A clone: swagger-parser dereferences in place.
      // Loaded here, not at import: the registry is imported by every verify/deploy run.
      const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
      await SwaggerParser.validate(structuredClone(read.doc) as never);
    } catch (error) {
      const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim()).filter(Boolean);
      return fail(`${path.basename(file)} is not a valid OpenAPI document: ${lines[0]}`, { details: lines, hint });
    }
    const info = (read.doc.info ?? {}) as { title?: string; version?: string };
    const ops = listOperations(read.doc);
    return pass(`${path.basename(file)}: OpenAPI ${String(read.doc.openapi)}, "${info.title}" ${info.version}, ${ops.length} operations, $refs resolve`, { data: { file, operations: ops.map((o) => o.label) } });
  },
});
