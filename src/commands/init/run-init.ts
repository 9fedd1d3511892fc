import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_NAME } from '../../config/resolve.js';
import { CONFIG_TEMPLATE, ENV_EXAMPLE_TEMPLATE } from './templates.js';

export interface InitOptions {
  dir: string;
  force: boolean;
}

export interface InitResult {
  written: string[];
  kept: string[];
  gitignore: 'created' | 'updated' | 'already-ignores-env';
}

function ignoresDotEnv(content: string): boolean {
  return content.split(/\r?\n/).some((line) => /^\/?\.env$/.test(line.trim()));
}

/** Write the config file and .env.example, and make sure .env is git-ignored. */
export function runInit({ dir, force }: InitOptions): InitResult {
  const result: InitResult = { written: [], kept: [], gitignore: 'already-ignores-env' };
  for (const [name, content] of [[CONFIG_FILE_NAME, CONFIG_TEMPLATE], ['.env.example', ENV_EXAMPLE_TEMPLATE]] as const) {
    const file = path.join(dir, name);
    if (existsSync(file) && !force) result.kept.push(name);
    else {
      writeFileSync(file, content);
      result.written.push(name);
    }
  }
  const gitignore = path.join(dir, '.gitignore');
  if (!existsSync(gitignore)) {
    writeFileSync(gitignore, '.env\n.routergpt/\n');
    result.gitignore = 'created';
  } else {
    const content = readFileSync(gitignore, 'utf8');
    if (!ignoresDotEnv(content)) {
      writeFileSync(gitignore, `${content}${content.endsWith('\n') || content === '' ? '' : '\n'}.env\n`);
      result.gitignore = 'updated';
    }
  }
  return result;
}
