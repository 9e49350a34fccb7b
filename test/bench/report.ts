// The benchmark's figures: one line per measure with its goal and whether it is met, printed as a
// Markdown table (so the README's table is the benchmark's own output).
export interface Figure {
  scenario: string;
  measure: string;
  value: number;
  /** How the value is printed, e.g. (v) => v.toFixed(2). */
  format: (value: number) => string;
  goal?: { op: ">=" | "<="; target: number; text: string };
  note?: string;
}

export function isMet(figure: Figure): boolean | undefined {
  if (!figure.goal) return undefined;
  if (!Number.isFinite(figure.value)) return false;
  return figure.goal.op === ">=" ? figure.value >= figure.goal.target : figure.value <= figure.goal.target;
}

export function renderTable(figures: readonly Figure[]): string {
  const lines = ["| scenario | measure | measured | goal | met |", "|---|---|---:|---|---|"];
  for (const figure of figures) {
    const met = isMet(figure);
    const value = figure.format(figure.value) + (figure.note ? ` (${figure.note})` : "");
    lines.push(`| ${figure.scenario} | ${figure.measure} | ${value} | ${figure.goal?.text ?? "-"} | ${met === undefined ? "-" : met ? "met" : "NOT met"} |`);
  }
  return lines.join("\n");
}

export const fixed = (digits: number) => (value: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
export const percent = (digits: number) => (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : "n/a");
export const integer = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
