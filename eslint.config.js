/**
 * Lint guards the layers (STYLE.md habit 9): domain/ imports no framework or I/O, process.env is read only in
 * src/config.ts, no floating promises, no import cycles. Stylistic rules are left to review on purpose.
 */
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const TS_FILES = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', '*.ts'];

/** Relative import of a sibling layer from any depth, e.g. `../store/types.js` or `../../http/app.js`. */
const layer = (...names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;

const PROCESS_ENV_MESSAGE = 'Read configuration through src/config.ts (the only reader of process.env), then pass it in.';

/**
 * no-restricted-imports options do not merge across config blocks (the last block wins), so every folder's
 * list is built here and always carries the process.env ban.
 */
function restrictImports({ paths = [], patterns = [] } = {}) {
  return [
    'error',
    {
      paths: [
        { name: 'node:process', importNames: ['env'], message: PROCESS_ENV_MESSAGE },
        { name: 'process', importNames: ['env'], message: PROCESS_ENV_MESSAGE },
        ...paths,
      ],
      patterns,
    },
  ];
}

const NO_FASTIFY = [
  { regex: '^(fastify|@fastify/)', message: 'HTTP belongs in src/http/; this layer must not depend on Fastify.' },
  { regex: layer('http'), message: 'HTTP belongs in src/http/; this layer must not depend on it.' },
];

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'data/', 'certs/dev/', 'coverage/', 'test-results/']),

  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
  },

  {
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: {
        project: './tsconfig.check.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    settings: {
      // Without these, import-x resolves `.ts` files but never parses them, and no-cycle silently finds nothing.
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      // `.js` specifiers name `.ts` sources (NodeNext); the resolver built into import-x maps them, so
      // eslint-import-resolver-typescript is not needed.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'], '.mjs': ['.mts', '.mjs'] },
          conditionNames: ['types', 'import', 'node', 'default'],
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Template literals with numbers and the like are ordinary in messages; keep only the real mistakes.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true },
      ],
      // Fastify handlers and interface implementations (DataSource.read) are async so that they return
      // promises, with or without an await inside; no-floating-promises/no-misused-promises catch the real bugs.
      '@typescript-eslint/require-await': 'off',
    },
  },

  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: PROCESS_ENV_MESSAGE },
        { selector: "MemberExpression[object.name='process'][property.value='env']", message: PROCESS_ENV_MESSAGE },
        {
          selector: "VariableDeclarator[init.name='process'] > ObjectPattern > Property[key.name='env']",
          message: PROCESS_ENV_MESSAGE,
        },
      ],
      'no-restricted-imports': restrictImports(),
    },
  },

  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': restrictImports({
        paths: builtinModules.map((name) => ({
          name,
          message: 'domain/ is pure: no I/O. Pass data in from the pipeline instead.',
        })),
        patterns: [
          { regex: '^node:', message: 'domain/ is pure: no node:* modules. Pass data in from the pipeline instead.' },
          {
            regex:
              '^(fastify|@fastify/|bullmq|ioredis|kysely|pg|better-sqlite3|pdf-lib|node-forge|json-rules-engine)(/|$)',
            message: 'domain/ is pure types and decisions: no framework, database, queue or PDF libraries.',
          },
          {
            regex: layer('store', 'http', 'pipeline', 'documents', 'data-sources'),
            message: 'domain/ is the innermost layer: other layers import it, never the other way round.',
          },
        ],
      }),
    },
  },

  {
    files: ['src/catalog/**/*.ts', 'src/pipeline/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports({ patterns: NO_FASTIFY }) },
  },

  // 一件事 bundles (issue 14): orchestration beside pipeline/, no HTTP; its state machine and figures are pure.
  {
    files: ['src/bundles/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports({ patterns: NO_FASTIFY }) },
  },
  {
    files: ['src/bundles/plan.ts', 'src/bundles/types.ts', 'src/bundles/member-id.ts', 'src/bundles/figures.ts'],
    rules: {
      'no-restricted-imports': restrictImports({
        paths: builtinModules.map((name) => ({ name, message: 'The bundle state machine is pure: no I/O. The orchestration passes data in.' })),
        patterns: [
          ...NO_FASTIFY,
          { regex: '^node:', message: 'The bundle state machine is pure: no node:* modules.' },
          { regex: '^(bullmq|ioredis|kysely|pg|better-sqlite3)(/|$)', message: 'The bundle state machine is pure: no queue or database.' },
          { regex: layer('store', 'queue', 'data-sources', 'documents', 'signing', 'pipeline', 'webhooks'), message: 'The bundle state machine is pure: it gets data, it does not fetch it.' },
        ],
      }),
    },
  },

  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': restrictImports({
        paths: [{ name: 'pdf-lib', message: 'Routes serve stored PDFs; rendering lives in src/documents/.' }],
        patterns: [
          {
            regex: '(^|/)store/kysely-store(\\.js)?$',
            message: 'Use the Store interface from src/store/index.js (built in deps.ts), not the Kysely implementation.',
          },
          { regex: '^pdf-lib/', message: 'Routes serve stored PDFs; rendering lives in src/documents/.' },
        ],
      }),
    },
  },

  {
    files: ['src/config.ts'],
    rules: { 'no-restricted-syntax': 'off', 'no-restricted-imports': 'off' },
  },

  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // vitest's expect(...).rejects and friends are awaited; a method reference passed to expect is fine.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
