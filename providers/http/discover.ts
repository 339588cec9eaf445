/**
 * Schema discovery for an http app: the first page of its listing (as the import would request it, with
 * the same credentials, query and page size) is a sample of records; every attribute name the import
 * would read from them (flatten.ts: dotted names for nested members) is reported with a type inferred
 * from the sampled values as the csv provider infers it (integer, number, boolean, else string; the key
 * and id-like names stay strings). A list of scalars is reported as a string, since the import joins it
 * with ", " (the description says so); a list of objects as a string of JSON text. Only the key is
 * declared unique; `required` means every sampled record has a value. The note says how many records
 * the types come from. Failures are ProviderErrors, as for a read.
 */
import type { HttpApp } from '../../schemas/generated/config.ts';
import { inferType, isIdLike } from '../csv/discover.ts';
import type { DiscoveredAttribute } from '../discovery.ts';
import { openClient } from './client.ts';
import { flattenFields, LIST_SEPARATOR, type FieldShape } from './flatten.ts';
import { list } from './read.ts';
import { isObject } from './paths.ts';

export async function discoverHttp(app: string, config: HttpApp, key: string): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const client = openClient(app, config.connection);
  const listing = await list(client, { app, config, stored: null, firstPageOnly: true });
  const records = listing.records.map((r) => r.record).filter(isObject);
  const fields = new Map<string, { values: string[]; shapes: Set<FieldShape> }>();
  const field = (name: string) => {
    let f = fields.get(name);
    if (!f) fields.set(name, (f = { values: [], shapes: new Set() }));
    return f;
  };
  field(key);
  for (const record of records) {
    for (const f of flattenFields(record)) {
      const entry = field(f.name);
      entry.shapes.add(f.shape);
      if (f.value !== '') entry.values.push(f.value);
    }
  }
  const attributes = [...fields].map(([name, { values, shapes }]): DiscoveredAttribute => {
    const empty = records.length - values.length;
    const shape: FieldShape = shapes.has('json') ? 'json' : shapes.has('list') ? 'list' : 'scalar';
    const idLike = isIdLike(name, key) || isIdLike(name.split('.').at(-1)!, key);
    const distinct = values.length > 1 && new Set(values).size === values.length;
    return {
      name,
      type: idLike || shape !== 'scalar' ? 'string' : inferType(values),
      multiValued: false,
      required: empty === 0 && values.length > 0,
      unique: name === key,
      description: [
        ...(shape === 'list' ? [`a list, joined with ${JSON.stringify(LIST_SEPARATOR)}`] : shape === 'json' ? ['a list of objects, as JSON text'] : []),
        `${empty} of ${records.length} records empty`,
        ...(distinct && name !== key ? ['distinct in these records'] : []),
        ...(values[0] !== undefined ? [`e.g. ${JSON.stringify(values[0]).slice(0, 40)}`] : []),
      ].join('; '),
    };
  });
  const of = listing.total !== undefined ? ` of ${listing.total}` : '';
  const skipped = listing.records.length - records.length;
  return {
    attributes,
    note: `GET ${listing.firstRequest}: ${attributes.length} attributes, types inferred from a sample of ${records.length} records (the first page${of})${skipped ? `; ${skipped} entries that are not objects ignored` : ''}`,
  };
}
