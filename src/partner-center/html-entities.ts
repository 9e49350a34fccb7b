// Decoding of the HTML entities Partner Center puts in error descriptions (`&#39;`...), so people
// read "don't" and not "don&#39;t". Only the entities seen in JSON bodies; no HTML parsing.

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

const ENTITY = /&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi;

export function decodeHtmlEntities(text: string): string {
  return text.replace(ENTITY, (whole, name: string) => {
    if (name.startsWith("#")) {
      const hex = name[1] === "x" || name[1] === "X";
      const codePoint = Number.parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
      // An out-of-range or surrogate code point is left as written rather than throwing.
      if (!Number.isFinite(codePoint) || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return whole;
      return String.fromCodePoint(codePoint);
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}
