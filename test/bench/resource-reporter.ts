// Loaded into the runner's child process with `node --import`: at exit it writes the process's own
// peak RSS and CPU time to the file named by LICENSE_RUNNER_BENCH_USAGE, so the benchmark measures
// the runner apart from the emulator (which runs in the benchmark's own process).
import { writeFileSync } from "node:fs";

const target = process.env.LICENSE_RUNNER_BENCH_USAGE;
if (target) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    // maxRSS is in kilobytes; CPU times in microseconds.
    writeFileSync(target, JSON.stringify({ maxRssKb: usage.maxRSS, userCpuUs: usage.userCPUTime, systemCpuUs: usage.systemCPUTime }));
  });
}
