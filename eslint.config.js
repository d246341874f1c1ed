import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// ESLint's and typescript-eslint's recommended rules (no type-aware ones:
// tsc --noEmit checks the types), over scripts/, test/, bench/, deploy/ and
// the configs. Formatting is prettier's (prettier.config.js), not eslint's.
export default defineConfig(
  { ignores: ['dist/', '.vm-out/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `catch {}` is the codebase's "best effort" (cleanup that may find nothing to clean); an empty block elsewhere is still an error.
      'no-empty': ['error', { allowEmptyCatch: true }],
      // `const { recordedAt: _, ...rest } = o` drops a key: the rest is what is used.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // CommonJS on purpose (test/vm/guest/print-name.cjs: udev's IMPORT{program}, the same node start-up as nicback's udev bundle).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The deploy tests walk parsed YAML (Kubernetes objects, Prometheus rules) by path: typing each walk would only restate the manifests.
    files: ['test/unit/deploy/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
