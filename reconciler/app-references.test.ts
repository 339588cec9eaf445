import { describe, expect, it } from 'vitest';
import type { ImportConfig } from '../schemas/generated/config.ts';
import { accountReads, appReferences, importReads } from './app-references.ts';

describe('appReferences', () => {
  it('finds dotted, optional and quoted references, unescaping quoted names', () => {
    expect(appReferences('app.first_name + " " + app.?last_name')).toEqual(['first_name', 'last_name']);
    expect(appReferences(`app["address.city"] + app[?'manager.id'] + app["a\\"b"]`)).toEqual(['address.city', 'manager.id', 'a"b']);
    expect(appReferences('user.email + happ.x')).toEqual([]);
  });
});

describe('importReads', () => {
  it('gathers match pairs, the watermark and every reference of mappings, disabled and match expressions', () => {
    const names = importReads({
      mode: 'incremental', watermark: 'updated_at',
      match: [{ app: 'employee_id', user: 'employeeNumber' }, { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }] }, { expression: { app: 'app.mail.lowerAscii()', user: 'user.email' } }],
      disabled: 'app.status == "Terminated"',
      mappings: { login: 'app["work.email"]' },
    });
    expect([...names].sort()).toEqual(['employee_id', 'first', 'last', 'mail', 'status', 'updated_at', 'work.email']);
    expect(importReads(undefined).size).toBe(0);
  });
});

describe('importReads: optional and quoted references', () => {
  it('finds every app attribute the import reads', () => {
    expect([...importReads({
      mappings: { login: 'app.email.lowerAscii()', city: 'app["address.city"]', dept: "app[?'org.department'].orValue(\"\")", nick: 'app.?nick.orValue("")' },
      disabled: 'app.status == "Terminated"',
      match: [{ app: 'workEmail', user: 'email' }, { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }] }],
      watermark: 'updatedAt',
    })].sort()).toEqual(['address.city', 'email', 'first', 'last', 'nick', 'org.department', 'status', 'updatedAt', 'workEmail']);
    expect([...importReads(undefined)]).toEqual([]);
  });
});

describe('accountReads', () => {
  const imp = (mappings: Record<string, string>, disabled?: string) => ({ mappings, ...(disabled ? { disabled } : {}), match: [{ app: 'email', user: 'email' }] }) as unknown as ImportConfig;

  it('is the key, the match columns and every name the expressions read', () => {
    expect(accountReads(imp({ login: 'app.email.lowerAscii()', title: 'app["job title"]' }, 'app.status == "Terminated"'), 'id')).toEqual(new Set(['id', 'email', 'job title', 'status']));
  });

  it('is null when an expression reads app as a whole, and not for the word "app" inside a string', () => {
    expect(accountReads(imp({ groups: 'app.filter(k, k.startsWith("grp_"))' }), 'id')).toBeNull();
    expect(accountReads(imp({ n: 'size(app)' }), 'id')).toBeNull();
    expect(accountReads(imp({ n: 'app[user.field]' }), 'id')).toBeNull();
    expect(accountReads(imp({ n: '"app" + app.x' }), 'id')).toEqual(new Set(['id', 'email', 'x']));
  });
});
