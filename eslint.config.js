// ESLint (typescript-eslint) for mm: the recommended rules, plus the one architectural rule of
// ARCHITECTURE.md — the platform's components (services/) never import the CLI (src/).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// kafkajs's Kafka client comes from services/shared/kafkajs.ts, which fixes a timer of the library.
const KAFKAJS = {
  name: 'kafkajs',
  importNames: ['Kafka', 'logLevel'],
  allowTypeImports: true,
  message: 'import Kafka and logLevel from services/shared/kafkajs.ts: it fixes kafkajs for every client of the process.',
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'compose/**', 'assets/**', '.mm/**', 'coverage/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      // Unused names are errors, except the ones marked as deliberately unused.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true}],
    },
  },
  {
    // Tests read JSON answers of any shape and poke at them; typing each one would add nothing.
    files: ['test/**/*.{ts,tsx}'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    rules: {'@typescript-eslint/no-restricted-imports': ['error', {paths: [KAFKAJS]}]},
  },
  {
    files: ['services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/*', '**/src/**', '**/test/**', '**/bench/**'],
              message: 'one-way dependencies (ARCHITECTURE.md): services/ never imports src/, test/ or bench/; put what both sides need in services/shared.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': ['error', {paths: [KAFKAJS]}],
    },
  },
  {
    files: ['bin/*.js'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly'}},
  },
)
