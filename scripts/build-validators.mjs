// Build step after tsc (npm run build): the configuration file's JSON Schema compiled by ajv once,
// here, into dist/config/file-schema.validate.cjs (ajv's standalone code), so no command pays
// ajv's compile at start-up (85 ms of every command that reads routergpt.config.yaml, issue 16).
// The module exports the hash of the schema it was made from; src/config/resolve.ts uses it only
// when that hash is the running schema's, and compiles the schema itself otherwise.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const dist = path.resolve(import.meta.dirname, '..', 'dist', 'config');
const { configFileSchema, configSchemaHash, CONFIG_AJV_OPTIONS } = await import(path.join(dist, 'file-schema.js'));
const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(configFileSchema);
const code = standaloneCode.default(ajv, validate);
writeFileSync(path.join(dist, 'file-schema.validate.cjs'), `${code}\nmodule.exports.schemaHash = ${JSON.stringify(configSchemaHash())};\n`);
