/**
 * One JSON record as the flat string attributes an import reads, and the shape each attribute had, which
 * schema discovery reports. The rules, the same for every record, page and run:
 * - A nested object's members are named by their dotted path: { address: { city: "Oslo" } } gives
 *   `address.city` = "Oslo" (read in CEL as app["address.city"]); an empty object gives nothing.
 * - Strings stay as they are; numbers and booleans become their JSON text ("42", "1.5", "true"); null is
 *   '' (the same as an absent member, as a CSV's empty cell).
 * - An array of scalars (strings, numbers, booleans, nulls) is one attribute: its values joined with
 *   ", " (nulls left out), e.g. "Engineering, Managers"; split it with app.groups.split(", "). An empty
 *   array is ''. An array holding an object or an array is kept as its compact JSON text, whole.
 * - A literal member name that contains a dot and the dotted path of a nested member can spell the
 *   same name; the first one in the record's order wins.
 * Pure functions: no I/O.
 */
import { isObject } from './paths.ts';

export const LIST_SEPARATOR = ', ';

/** scalar: a string, number, boolean or null; list: an array of scalars (joined); json: an array kept as JSON text. */
export type FieldShape = 'scalar' | 'list' | 'json';

export interface FlatField {
  name: string;
  value: string;
  shape: FieldShape;
}

/** Every attribute of a record, in the record's order (see the contract). */
export function flattenFields(record: Record<string, unknown>): FlatField[] {
  const out: FlatField[] = [];
  const seen = new Set<string>();
  const put = (name: string, value: string, shape: FieldShape) => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, value, shape });
  };
  const walk = (prefix: string, object: Record<string, unknown>) => {
    for (const [member, value] of Object.entries(object)) {
      const name = prefix === '' ? member : `${prefix}.${member}`;
      if (isObject(value)) walk(name, value);
      else if (Array.isArray(value)) {
        if (value.every(isScalar)) put(name, value.filter((v) => v !== null).map(scalarText).join(LIST_SEPARATOR), 'list');
        else put(name, JSON.stringify(value), 'json');
      } else if (isScalar(value)) put(name, scalarText(value), 'scalar');
    }
  };
  walk('', record);
  return out;
}

/** A record's attributes as a plain object of own properties (safe for any member name). */
export function flattenRecord(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(flattenFields(record).map((f) => [f.name, f.value]));
}

type Scalar = string | number | boolean | null;

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function scalarText(value: Scalar): string {
  return value === null ? '' : typeof value === 'string' ? value : String(value);
}
