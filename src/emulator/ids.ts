// Identifier handling shared by the emulator's modules: what a well-formed GUID is, and the one
// key form (lower case) under which customers, users, SKUs and plans are indexed, because the
// service compares ids case-insensitively.

const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}

/** The index key of an id: ids differing only in case are the same id. */
export function idKey(id: string): string {
  return id.toLowerCase();
}
