// What a valid value of each roster field looks like. Pure functions over one cell: trimming,
// GUID / UPN / SKU / service-plan / action rules, and the display form of a raw value. Roster
// values reach URLs only as GUIDs that passed here, so these rules are the path-injection guard.

/** Whitespace and invisible characters spreadsheets and web pages leave around values. */
const EDGE_JUNK = /[\s\u200b-\u200d\u2060\ufeff]/;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BRACED_GUID = /^\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}$/i;

/** C0, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Zero-width, bidirectional and other format characters: they make two values look the same. */
const INVISIBLE = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
/** Path traversal or percent-encoding in a name that should never hold either. */
const PATH_TRICK = /(^|[\\/])\.\.([\\/]|$)|%[0-9a-f]{2}/i;

/** Microsoft's user principal name: local part of A-Z a-z 0-9 ' . - _ ! # ^ ~, then @ and a DNS domain. */
const UPN_LOCAL = /^[A-Za-z0-9'_!#^~-]+(\.[A-Za-z0-9'_!#^~-]+)*$/;
const DNS_DOMAIN = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Service plan names as Microsoft spells them (EXCHANGE_S_STANDARD, MCOSTANDARD, YAMMER_ENTERPRISE). */
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const SKU_MAX_LENGTH = 256;
export const DISPLAY_MAX_LENGTH = 120;
/** Longest cell the reader inspects in each field; longer ones are FIELD_TOO_LONG. */
export const FIELD_MAX_LENGTH = { default: 1024, excludedPlans: 8192 } as const;
/** What the decoder puts where a byte sequence was not UTF-8. */
export const REPLACEMENT_CHARACTER = "\ufffd";

export type FieldCheck<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Trims EDGE_JUNK from both ends; by hand, because `/\s+$/` is quadratic on a megabyte of spaces. */
export function cleanCell(raw: string): string {
  // Printable ASCII other than space is never junk: most cells need no trimming at either end.
  const length = raw.length;
  if (length === 0) return raw;
  const first = raw.charCodeAt(0);
  const last = raw.charCodeAt(length - 1);
  if (first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f) return raw;
  let start = 0;
  let end = raw.length;
  while (start < end && EDGE_JUNK.test(raw[start] as string)) start++;
  while (end > start && EDGE_JUNK.test(raw[end - 1] as string)) end--;
  return start === 0 && end === raw.length ? raw : raw.slice(start, end);
}

export function isGuidLike(value: string): boolean {
  return GUID.test(value) || BRACED_GUID.test(value);
}

/** Whether `value` is a GUID in lower case, as most rosters write them (checked without a regex). */
function isLowerCaseGuid(value: string): boolean {
  if (value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 0x2d) return false;
    } else if (!((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66))) return false;
  }
  return true;
}

/** The verdicts on the last two lower-case GUIDs checked (a row's customer, then its user, row after row). */
const recentGuids: (string | undefined)[] = [undefined, undefined];
const recentVerdicts: (FieldCheck<string> | undefined)[] = [undefined, undefined];

/** A GUID, braces allowed, normalised to lower case. */
export function checkGuid(value: string): FieldCheck<string> {
  if (value === recentGuids[0]) return recentVerdicts[0]!;
  if (value === recentGuids[1]) return recentVerdicts[1]!;
  if (isLowerCaseGuid(value)) {
    const verdict: FieldCheck<string> = { ok: true, value };
    recentGuids[1] = recentGuids[0];
    recentVerdicts[1] = recentVerdicts[0];
    recentGuids[0] = value;
    recentVerdicts[0] = verdict;
    return verdict;
  }
  if (GUID.test(value)) return { ok: true, value: value.toLowerCase() };
  const braced = BRACED_GUID.exec(value);
  if (braced?.[1] !== undefined) return { ok: true, value: braced[1].toLowerCase() };
  return { ok: false, reason: `${quote(value)} is not a GUID (expected 8-4-4-4-12 hex digits)` };
}

export function checkUserPrincipalName(value: string): FieldCheck<string> {
  if (/\s/.test(value) || CONTROL.test(value) || INVISIBLE.test(value)) {
    return { ok: false, reason: `${quote(value)} contains whitespace or control characters` };
  }
  if (/[/\\?%&:;,<>()[\]{}"|*=+$]/.test(value)) {
    return { ok: false, reason: `${quote(value)} contains a character a user principal name cannot hold` };
  }
  const at = value.lastIndexOf("@");
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at <= 0 || !UPN_LOCAL.test(local) || !DNS_DOMAIN.test(domain)) {
    return { ok: false, reason: `${quote(value)} is not a user principal name (expected name@domain, e.g. alex@contoso.com)` };
  }
  return { ok: true, value };
}

/** The verdicts on SKU cells already seen: a roster names a handful of SKUs a million times. */
const SKU_VERDICTS = new Map<string, FieldCheck<string>>();
const SKU_VERDICTS_LIMIT = 1_000;

export function checkSku(value: string): FieldCheck<string> {
  let verdict = SKU_VERDICTS.get(value);
  if (verdict === undefined) {
    verdict = judgeSku(value);
    if (SKU_VERDICTS.size < SKU_VERDICTS_LIMIT) SKU_VERDICTS.set(value, verdict);
  }
  return verdict;
}

function judgeSku(value: string): FieldCheck<string> {
  if (value.length > SKU_MAX_LENGTH) return { ok: false, reason: `is ${value.length} characters long; a SKU id, part number or name has at most ${SKU_MAX_LENGTH}` };
  if (CONTROL.test(value)) return { ok: false, reason: `${quote(value)} contains control characters` };
  if (INVISIBLE.test(value)) return { ok: false, reason: `${quote(value)} contains invisible (zero-width or direction) characters` };
  if (PATH_TRICK.test(value)) return { ok: false, reason: `${quote(value)} contains a path (../) or percent-encoded sequence` };
  return { ok: true, value };
}

/**
 * `;`-separated service plan ids or names. `,` separates too: inside a quoted cell of a
 * comma-delimited roster it is the separator people reach for, and neither form holds commas.
 */
export function checkExcludedPlans(value: string): FieldCheck<string[]> {
  const plans: string[] = [];
  for (const entry of value.split(/[;,]/).map(cleanCell)) {
    if (entry === "") continue;
    const guid = checkGuid(entry);
    if (guid.ok) plans.push(guid.value);
    else if (SERVICE_NAME.test(entry) && !entry.includes("..")) plans.push(entry);
    else return { ok: false, reason: `entry ${quote(entry)} is neither a service plan id (GUID) nor a service name (letters, digits, _ . -)` };
  }
  return { ok: true, value: plans };
}

export function checkAction(value: string): FieldCheck<"assign" | "remove"> {
  const action = value.toLowerCase();
  if (action === "" || action === "assign") return { ok: true, value: "assign" };
  if (action === "remove") return { ok: true, value: "remove" };
  return { ok: false, reason: `${quote(value)} is not an action (expected assign, remove or empty for assign)` };
}

/** A raw value as safe to show: length-capped, control characters written as escapes. */
export function forDisplay(value: string): string {
  const capped = value.length > DISPLAY_MAX_LENGTH ? `${value.slice(0, DISPLAY_MAX_LENGTH)}…` : value;
  return capped.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (chr) => `\\u${chr.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function quote(value: string): string {
  return `"${forDisplay(value)}"`;
}

/**
 * The officially assigned ISO 3166-1 alpha-2 codes (ISO's Online Browsing Platform, "Country
 * codes"): a usage location is one of them ("Update user accounts for a customer" takes a
 * two-letter country code).
 */
const ISO_3166_ALPHA_2 = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
    "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
    "MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
    "UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" "),
);

/** An ISO 3166-1 alpha-2 country code, any case, normalised to upper case. */
export function checkUsageLocation(value: string): FieldCheck<string> {
  const code = value.toUpperCase();
  if (ISO_3166_ALPHA_2.has(code)) return { ok: true, value: code };
  return { ok: false, reason: `${quote(value)} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)` };
}
