import { describe, expect, it } from 'vitest';
import { isSensitive, unmaskedAttributes } from '../../reconciler/sensitivity.ts';
import { createMasking } from './masking.ts';

describe('createMasking', () => {
  const masking = () => createMasking({ unmasked: false, shown: ['title'], salt: 'lineage-1' });

  it('tags a user the same way every time, and different users differently', () => {
    const a = masking();
    const b = masking();
    expect(a.user('zoe@example.com')).toMatch(/^`#[0-9a-f]{8}`$/);
    expect(a.user('zoe@example.com')).toBe(b.user('ZOE@example.com'));
    expect(a.user('zoe@example.com')).not.toBe(a.user('zoe2@example.com'));
    // Another state's plans tag the same person differently.
    expect(createMasking({ unmasked: false, salt: 'lineage-2' }).user('zoe@example.com')).not.toBe(a.user('zoe@example.com'));
  });

  it('shows only the unmasked attributes\' values', () => {
    const m = masking();
    expect(m.value('title', 'CTO')).toBe('`"CTO"`');
    expect(m.value('mobilePhone', '+1 415')).toBe('`•••`');
    expect(m.value('mobilePhone', null)).toBe('*(unset)*');
  });

  it('tags the identifiers in free text, whole ones only', () => {
    const m = masking();
    const zoe = m.user('zoe@example.com');
    const admin = m.user('admin');
    expect(m.text('rule #1 matches zoe@example.com and ann@example.org.', [])).toBe(`rule #1 matches ${zoe} and ${m.id('ann@example.org')}.`);
    expect(m.text('key "5" appears on 2 rows (lines 5, 15)', ['5'])).toBe(`key "${m.id('5')}" appears on 2 rows (lines ${m.id('5')}, 15)`);
    expect(m.text('admin and admin2 and superadmin', [])).toBe(`${admin} and admin2 and superadmin`);
  });

  it('keeps the app of app/key references visible', () => {
    const m = masking();
    expect(m.text('salesforce/jose@example.com (jose@example.com) was edited')).toBe(`salesforce/${m.id('jose@example.com')} (${m.id('jose@example.com')}) was edited`);
  });

  it('shows everything when unmasked', () => {
    const m = createMasking({ unmasked: true, salt: null });
    expect(m.user('zoe@example.com')).toBe('zoe@example.com');
    expect(m.value('mobilePhone', '+1')).toBe('`"+1"`');
    expect(m.text('zoe@example.com', [])).toBe('zoe@example.com');
  });
});

describe('sensitivity', () => {
  it('masks personal attributes by default and shows organisational ones', () => {
    for (const name of ['login', 'email', 'firstName', 'lastName', 'displayName', 'mobilePhone', 'employeeNumber', 'managerId', 'nickname']) expect(isSensitive(name, {})).toBe(true);
    for (const name of ['title', 'department', 'status', 'userType', 'costCenter']) expect(isSensitive(name, {})).toBe(false);
  });

  it('follows sensitive: when the config says', () => {
    expect(isSensitive('title', { sensitive: true })).toBe(true);
    expect(isSensitive('mobilePhone', { sensitive: false })).toBe(false);
    expect(unmaskedAttributes({ login: {}, title: {}, phone: { sensitive: false }, department: { sensitive: true } })).toEqual(['title', 'phone']);
  });
});
