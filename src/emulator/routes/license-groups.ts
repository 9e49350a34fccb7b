// The `licenseGroupIds` query parameter ("Get a list of available licenses"): optional and repeatable,
// values "Group1"/"Group2" in any case; absent means group1 only. Unknown values are a 400.
import type { LicenseGroupId } from "../../partner-center/types.js";

export function parseLicenseGroups(query: URLSearchParams): { groups: ReadonlySet<LicenseGroupId> } | { error: string } {
  const groups = new Set<LicenseGroupId>();
  for (const [name, value] of query) {
    if (name.toLowerCase() !== "licensegroupids") continue;
    const group = value.trim().toLowerCase();
    if (group !== "group1" && group !== "group2") return { error: `licenseGroupIds value "${value}" is not Group1 or Group2` };
    groups.add(group);
  }
  if (groups.size === 0) groups.add("group1");
  return { groups };
}
