import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.routergpt/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only the entry points may end the process (STYLE.md §2).
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a typed error; only src/cli/main.ts and src/server/main.ts exit.' }],
    },
  },
  {
    files: ['src/cli/main.ts', 'src/server/main.ts', 'test/**', 'bench/**', 'bin/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['bin/**', 'bench/**/*.mjs', 'scripts/**/*.mjs', '.ci/**'],
    languageOptions: {
      globals: Object.fromEntries(['process', 'console', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'performance', 'fetch', 'AbortSignal', 'AbortController', 'Buffer'].map((g) => [g, 'readonly'])),
    },
  },
);
