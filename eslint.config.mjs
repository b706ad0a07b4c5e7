// `npm run lint`: eslint (this file) plus `tsc --noEmit` (strict) for lib/.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'build/', 'build-*/', 'prebuilds/', 'node_modules/', 'coverage/', 'benchmarks/data/', 'benchmarks/results/'],
  },
  {
    // TypeScript sources: typescript-eslint's recommended rules on top of tsc's strict mode.
    files: ['lib/**/*.ts', 'lib/**/*.mts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `const self = this` for getters in object literals (ndarray's data adaptor).
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  {
    // Type-test fixtures: they exist to hold deliberately wrong lines.
    files: ['test/types/**/*.ts', 'test/types/**/*.mts'],
    extends: [...tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': false }],
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Plain JavaScript: tests (CommonJS + .mjs), benchmarks, scripts.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: {
      // A warning in plain JS (tests, benchmarks, scripts); an error in lib/.
      'no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Defensive initial values (`let ok = false; try { ok = ... }`) are fine.
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
  {
    files: ['test/**/*.js', 'test/**/*.mjs'],
    languageOptions: { globals: { ...globals.mocha } },
  },
);
