import { defineConfig } from "vitest/config";

// Tests run the compiled dist/ (built by `npm test` first) against the emulator on loopback.
export default defineConfig({
  test: {
    root: ".",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    setupFiles: ["test/support/cleanup.ts"],
    reporters: ["default"],
  },
});
