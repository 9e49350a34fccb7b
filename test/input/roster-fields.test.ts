// The roster field table drives the header and the validator: every field's names map to it, and
// the usageLocation column is read, normalised and refused like any other field.
import { describe, expect, it } from "vitest";
import { readAll } from "../support/read-all.js";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const C = "c0000001-0000-4000-8000-000000000000";
const U = "a0000001-0000-4000-8000-000000000001";

async function read(csv: string) {
  const dir = await mkdtemp(join(tmpdir(), "roster-fields-"));
  try {
    const path = join(dir, "roster.csv");
    await writeFile(path, csv);
    return await readAll({ path });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the usageLocation column", () => {
  for (const header of ["usageLocation", "Usage Location", "usage_location", "country"]) {
    it(`is read under the header "${header}", upper-cased`, async () => {
      const { records, error } = await read(`customerId,userId,sku,${header}\n${C},${U},E3,gb\n${C},${U},E5,\n`);
      expect(error).toBeUndefined();
      expect(records.map((r) => (r.kind === "row" ? r.row.usageLocation : r.rejection.errorCode))).toEqual(["GB", undefined]);
    });
  }

  it("refuses a value that is not an ISO 3166-1 alpha-2 code", async () => {
    const { records } = await read(`customerId,userId,sku,country\n${C},${U},E3,XX\n${C},${U},E3,USA\n${C},${U},E3,de\n`);
    expect(records.map((r) => (r.kind === "rejected" ? r.rejection.errorCode : r.row.usageLocation))).toEqual(["INVALID_USAGE_LOCATION", "INVALID_USAGE_LOCATION", "DE"]);
    const first = records[0];
    expect(first?.kind === "rejected" && first.rejection.errorMessage).toMatch(/country "XX" is not an ISO 3166-1 alpha-2 country code/);
  });

  it("refuses a header with two usage location columns", async () => {
    const { error } = await read(`customerId,userId,sku,country,usageLocation\n${C},${U},E3,US,US\n`);
    expect(error?.code).toBe("DUPLICATE_COLUMN");
  });
});
