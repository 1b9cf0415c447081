// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'var/', 'dist/', 'src/db/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        document: 'readonly',
        window: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'bin/**', 'reference/**', 'src/main.ts'],
    rules: { 'no-console': 'off' },
  },
  // Boundaries (README, Architecture): a feature uses another only through its service.ts;
  // a schema.ts may also name another feature's tables, for foreign keys; platform/ knows
  // no feature. app.ts, the wiring, may import anything, and so may tests (they drive the
  // whole app, signing in with the demo accounts' password from accounts/seed.ts).
  {
    files: ['src/features/**/*.ts'],
    ignores: ['src/features/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [crossFeature(['service.ts'])] }] },
  },
  {
    files: ['src/features/*/schema.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [crossFeature(['service.ts', 'schema.ts'])] }],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)features(/|$)',
              message:
                'platform/ knows no feature: let the feature pass it in or register it (in app.ts).',
            },
          ],
        },
      ],
    },
  },
);

/**
 * An import of another feature's module other than `allowed` (relative, as
 * features import each other: `../accounts/schema.ts`).
 * @param {string[]} allowed
 */
function crossFeature(allowed) {
  const files = allowed.map((f) => f.replace('.', '\\.')).join('|');
  return {
    regex: `^(\\.\\./|.*/features/)[^./][^/]*/(?!(${files})$)`,
    message: `Another feature is used only through its ${allowed.join(' or ')} (README, Architecture: boundaries).`,
  };
}
