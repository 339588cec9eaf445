import { describe, expect, it } from 'vitest';
import {
  CORE_USER_SCHEMA, ScimPathError, eqFilter, flattenResource, formatPath, parsePath, patchOperations, readPath, setPath, toJsonValue,
  type JsonObject,
} from './paths.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const resource = {
  schemas: [CORE_USER_SCHEMA, ENTERPRISE],
  id: '2819c223',
  userName: 'bjensen@example.com',
  active: true,
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { type: 'home', value: 'babs@home.example' },
    { type: 'work', value: 'bjensen@example.com', primary: true },
  ],
  phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
  [ENTERPRISE]: { department: 'Tour Operations', manager: { value: '26118915', displayName: 'John Smith' } },
  meta: { version: 'W/"3694e05e9dff591"', location: '/scim/v2/Users/2819c223' },
};

describe('parsePath', () => {
  it('reads the attribute, filter, sub-attribute and extension schema', () => {
    expect(parsePath('userName')).toMatchObject({ schema: null, attribute: 'userName', filter: null, sub: null });
    expect(parsePath('name.givenName')).toMatchObject({ schema: null, attribute: 'name', sub: 'givenName' });
    expect(parsePath('emails[type eq "work"].value')).toMatchObject({ attribute: 'emails', filter: { attribute: 'type', value: 'work' }, sub: 'value' });
    expect(parsePath('emails[primary eq true].value')).toMatchObject({ filter: { attribute: 'primary', value: true } });
    expect(parsePath(`${ENTERPRISE}:department`)).toMatchObject({ schema: ENTERPRISE, attribute: 'department', sub: null });
    expect(parsePath(`${ENTERPRISE}:manager.value`)).toMatchObject({ schema: ENTERPRISE, attribute: 'manager', sub: 'value' });
  });

  it('treats the core User schema URN as no prefix, and keeps the text as written', () => {
    const p = parsePath(`${CORE_USER_SCHEMA}:name.familyName`);
    expect(p).toMatchObject({ schema: null, attribute: 'name', sub: 'familyName', text: `${CORE_USER_SCHEMA}:name.familyName` });
    expect(formatPath(p)).toBe('name.familyName');
  });

  it('unescapes a JSON filter value and formats it back escaped', () => {
    const p = parsePath('emails[type eq "a \\"quoted\\" \\\\ type"].value');
    expect(p.filter?.value).toBe('a "quoted" \\ type');
    expect(formatPath(p)).toBe('emails[type eq "a \\"quoted\\" \\\\ type"].value');
  });

  it('refuses what is not a SCIM attribute path', () => {
    for (const bad of ['', 'first name', 'emails[type eq work].value', 'emails[type eq "work"]', 'a.b.c', 'emails[type co "w"].value', '1abc']) {
      expect(() => parsePath(bad), bad).toThrow(ScimPathError);
    }
  });
});

describe('readPath', () => {
  it('flattens values to strings, attribute names case-insensitively', () => {
    expect(readPath(resource, parsePath('userName'))).toBe('bjensen@example.com');
    expect(readPath(resource, parsePath('USERNAME'))).toBe('bjensen@example.com');
    expect(readPath(resource, parsePath('active'))).toBe('true');
    expect(readPath(resource, parsePath('name.givenName'))).toBe('Barbara');
    expect(readPath(resource, parsePath('emails[type eq "work"].value'))).toBe('bjensen@example.com');
    expect(readPath(resource, parsePath('emails[type eq "WORK"].value'))).toBe('bjensen@example.com');
    expect(readPath(resource, parsePath('phoneNumbers[type eq "mobile"].value'))).toBe('+1 555 0100');
    expect(readPath(resource, parsePath(`${ENTERPRISE}:department`))).toBe('Tour Operations');
    expect(readPath(resource, parsePath(`${ENTERPRISE}:manager.value`))).toBe('26118915');
  });

  it('gives the primary element of a multi-valued attribute without a filter, and "" for what is absent', () => {
    expect(readPath(resource, parsePath('emails.value'))).toBe('bjensen@example.com');
    expect(readPath(resource, parsePath('title'))).toBe('');
    expect(readPath(resource, parsePath('phoneNumbers[type eq "work"].value'))).toBe('');
    expect(readPath(resource, parsePath('name.middleName'))).toBe('');
    expect(readPath({}, parsePath(`${ENTERPRISE}:manager.value`))).toBe('');
  });
});

describe('setPath (POST and PUT bodies)', () => {
  it('builds a create body with nested, filtered and extension values', () => {
    const body: JsonObject = { schemas: [CORE_USER_SCHEMA] };
    setPath(body, parsePath('userName'), 'bjensen');
    setPath(body, parsePath('name.givenName'), 'Barbara');
    setPath(body, parsePath('name.familyName'), 'Jensen');
    setPath(body, parsePath('emails[type eq "work"].value'), 'b@example.com');
    setPath(body, parsePath('phoneNumbers[type eq "mobile"].value'), '555');
    setPath(body, parsePath(`${ENTERPRISE}:department`), 'Sales');
    setPath(body, parsePath(`${ENTERPRISE}:manager.value`), 'm1');
    setPath(body, parsePath('active'), true);
    expect(body).toEqual({
      schemas: [CORE_USER_SCHEMA, ENTERPRISE],
      userName: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      emails: [{ type: 'work', value: 'b@example.com' }],
      phoneNumbers: [{ type: 'mobile', value: '555' }],
      [ENTERPRISE]: { department: 'Sales', manager: { value: 'm1' } },
      active: true,
    });
  });

  it('changes and removes values in an existing resource, keeping what it does not touch', () => {
    const body = structuredClone(resource) as unknown as JsonObject;
    setPath(body, parsePath('emails[type eq "work"].value'), 'new@example.com');
    setPath(body, parsePath('phoneNumbers[type eq "mobile"].value'), null);
    setPath(body, parsePath('name.givenName'), null);
    setPath(body, parsePath(`${ENTERPRISE}:manager.value`), 'm2');
    expect(body.emails).toEqual([{ type: 'home', value: 'babs@home.example' }, { type: 'work', value: 'new@example.com', primary: true }]);
    expect(body.phoneNumbers).toBeUndefined();
    expect(body.name).toEqual({ familyName: 'Jensen' });
    expect((body[ENTERPRISE] as JsonObject).manager).toEqual({ value: 'm2', displayName: 'John Smith' });
  });
});

describe('patchOperations (RFC 7644 §3.5.2)', () => {
  it('replaces a changed value at its path', () => {
    expect(patchOperations(resource, parsePath('name.givenName'), 'Babs')).toEqual([{ op: 'replace', path: 'name.givenName', value: 'Babs' }]);
    expect(patchOperations(resource, parsePath('active'), false)).toEqual([{ op: 'replace', path: 'active', value: false }]);
    expect(patchOperations(resource, parsePath('emails[type eq "work"].value'), 'x@example.com'))
      .toEqual([{ op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' }]);
    expect(patchOperations(resource, parsePath(`${ENTERPRISE}:department`), 'Sales'))
      .toEqual([{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Sales' }]);
  });

  it('sends nothing for a value already in place', () => {
    expect(patchOperations(resource, parsePath('name.givenName'), 'Barbara')).toEqual([]);
    expect(patchOperations(resource, parsePath('active'), true)).toEqual([]);
    expect(patchOperations(resource, parsePath('title'), null)).toEqual([]);
  });

  it('adds a new element when no element matches the filter (replace would be noTarget)', () => {
    expect(patchOperations(resource, parsePath('phoneNumbers[type eq "work"].value'), '555'))
      .toEqual([{ op: 'add', path: 'phoneNumbers', value: [{ type: 'work', value: '555' }] }]);
  });

  it("adds an extension's complex parent with the sub-attribute (merged, others kept)", () => {
    expect(patchOperations(resource, parsePath(`${ENTERPRISE}:manager.value`), 'm2'))
      .toEqual([{ op: 'add', path: `${ENTERPRISE}:manager`, value: { value: 'm2' } }]);
  });

  it('removes for an empty value: the whole element of a filtered value', () => {
    expect(patchOperations(resource, parsePath('name.givenName'), null)).toEqual([{ op: 'remove', path: 'name.givenName' }]);
    expect(patchOperations(resource, parsePath('phoneNumbers[type eq "mobile"].value'), null)).toEqual([{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
    expect(patchOperations(resource, parsePath(`${ENTERPRISE}:manager.value`), null)).toEqual([{ op: 'remove', path: `${ENTERPRISE}:manager.value` }]);
  });
});

describe('eqFilter', () => {
  it('quotes the value as a JSON string, escaping " and \\', () => {
    expect(eqFilter(parsePath('userName'), 'bjensen')).toBe('userName eq "bjensen"');
    expect(eqFilter(parsePath('userName'), 'o"brien\\x')).toBe('userName eq "o\\"brien\\\\x"');
    expect(eqFilter(parsePath('name.familyName'), 'Jensen')).toBe('name.familyName eq "Jensen"');
    expect(eqFilter(parsePath('emails[type eq "work"].value'), 'b@x')).toBe('emails[type eq "work" and value eq "b@x"]');
    expect(eqFilter(parsePath(`${ENTERPRISE}:department`), 'Sales')).toBe(`${ENTERPRISE}:department eq "Sales"`);
  });
});

describe('toJsonValue', () => {
  it('types values by the declared type, with active and primary known as booleans', () => {
    expect(toJsonValue(parsePath('active'), 'false')).toBe(false);
    expect(toJsonValue(parsePath('active'), 'TRUE')).toBe(true);
    expect(toJsonValue(parsePath('title'), 'true')).toBe('true');
    expect(toJsonValue(parsePath('x'), '42', () => 'integer')).toBe(42);
    expect(toJsonValue(parsePath('x'), '4.5', () => 'decimal')).toBe(4.5);
    expect(() => toJsonValue(parsePath('active'), 'yes')).toThrow(/boolean: expected true or false, got "yes"/);
    expect(() => toJsonValue(parsePath('x'), '4.5', () => 'integer')).toThrow(/integer/);
    expect(() => toJsonValue(parsePath('manager'), 'm', () => 'complex')).toThrow(/complex attribute/);
  });
});

describe('flattenResource', () => {
  it('flattens every value to a path', () => {
    const flat = flattenResource(resource);
    expect(flat).toMatchObject({
      id: '2819c223',
      userName: 'bjensen@example.com',
      active: 'true',
      'name.givenName': 'Barbara',
      'emails[type eq "work"].value': 'bjensen@example.com',
      'emails[type eq "home"].value': 'babs@home.example',
      'emails.value': 'bjensen@example.com',
      'phoneNumbers[type eq "mobile"].value': '+1 555 0100',
      [`${ENTERPRISE}:department`]: 'Tour Operations',
      [`${ENTERPRISE}:manager.value`]: '26118915',
      'meta.version': 'W/"3694e05e9dff591"',
    });
    expect(flat.schemas).toBeUndefined();
  });
});
