/* ESLint 9 reads this legacy config with ESLINT_USE_FLAT_CONFIG=false (see package.json "lint"). */
module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: __dirname, sourceType: 'module' },
  plugins: ['@typescript-eslint'],
  extends: ['eslint:recommended', 'plugin:@typescript-eslint/recommended'],
  env: { node: true, es2022: true },
  ignorePatterns: ['dist/', 'node_modules/', 'coverage/', '*.cjs', '*.mjs'],
  rules: {
    '@typescript-eslint/no-explicit-any': 'error',
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/consistent-type-imports': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    // Only the output layer writes to the terminal; adapters report events.
    'no-console': 'error',
    eqeqeq: ['error', 'always', { null: 'ignore' }],
  },
  overrides: [
    {
      files: ['src/pipeline/output.ts', 'src/cli.ts', 'test/**/*.ts', 'src/sandbox/cli.ts'],
      rules: { 'no-console': 'off' },
    },
    {
      files: ['src/git/**', 'src/jenkins/**', 'src/ansible/**', 'src/kube/**', 'src/aws/**'],
      rules: {
        'no-restricted-imports': [
          'error',
          { paths: ['chalk', 'listr2', 'commander'], patterns: ['../pipeline/*', '../commands/*', '../steps/*'] },
        ],
        'no-restricted-properties': ['error', { object: 'process', property: 'exit' }],
      },
    },
  ],
};
