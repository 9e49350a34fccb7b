// Set up for every test file (vitest setupFiles): what the shared helpers leave behind is removed.
import { afterAll } from "vitest";
import { removeTempDirs } from "./temp-dir.js";

afterAll(removeTempDirs);
