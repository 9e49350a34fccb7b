import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Tests run the compiled dist/ (built by `npm test` first) against the emulator on loopback.
export default defineConfig({
  test: {
    root: ".",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the cores: one on a 2-core machine, where most test
    // files wait on child processes and loopback rather than the CPU. Two workers there took the
    // suite from 379 s to 243 s (243 s to 323 s with a busy loop on one core beside it), every test
    // passing each time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    setupFiles: ["test/support/cleanup.ts"],
    reporters: ["default"],
  },
});
