import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests of pure modules live beside them (src/**/X.test.ts); tests through HTTP and a real database in test/.
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
