import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The composition root: it wires the domains together, so nothing below it may import it. */
const COMPOSITION_ROOT = ['./src/app.ts', './src/server.ts', './src/main.ts'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'scratch/'] },
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Imports flow one way: no cycle anywhere in src/, type-only imports included.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src/!(main).ts', from: './src/main.ts', message: 'main.ts is the entry point; nothing imports it.' },
            { target: './src/*/**', from: COMPOSITION_ROOT, message: 'Domains never import the composition root (app.ts, server.ts, main.ts).' },
            { target: './src/!(app|server|main|openapi).ts', from: ['./src/app.ts', './src/server.ts'], message: 'Only the entry points import the composition root.' },
          ],
        },
      ],
    },
  },
);
