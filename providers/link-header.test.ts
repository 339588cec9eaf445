import { describe, expect, it } from 'vitest';
import { nextLink, parseLinkHeader, relsOf } from './link-header.ts';

describe('parseLinkHeader', () => {
  it('reads targets and parameters, unquoting values', () => {
    const links = parseLinkHeader('<https://hr.example/api/people?page=2>; rel="next", </api/people?page=9>; rel=last; title="Last, final"');
    expect(links).toEqual([
      { target: 'https://hr.example/api/people?page=2', params: { rel: 'next' } },
      { target: '/api/people?page=9', params: { rel: 'last', title: 'Last, final' } },
    ]);
  });

  it('does not split on a comma or semicolon inside <…> or a quoted value, and unescapes \\"', () => {
    const links = parseLinkHeader('</a?x=1,2;3>; rel="next"; title="say \\"hi\\"; now", </b>; rel=prev');
    expect(links.map((l) => l.target)).toEqual(['/a?x=1,2;3', '/b']);
    expect(links[0]!.params.title).toBe('say "hi"; now');
  });

  it('keeps the first rel of a link-value (RFC 8288 §3.3) and lower-cases parameter names', () => {
    expect(parseLinkHeader('</a>; REL="next"; rel="prev"')[0]!.params).toEqual({ rel: 'next' });
  });

  it('skips a malformed link-value and reads the ones after it', () => {
    expect(parseLinkHeader('garbage; rel="next", </ok>; rel="next"').map((l) => l.target)).toEqual(['/ok']);
    expect(parseLinkHeader('</unclosed; rel=next')).toEqual([]);
  });
});

describe('relsOf and nextLink', () => {
  it('splits rel on white space, case-insensitively', () => {
    expect(relsOf({ target: '/x', params: { rel: 'Next  Last' } })).toEqual(['next', 'last']);
  });

  it('finds the next link among several, or none', () => {
    expect(nextLink('</p1>; rel="prev", </p3>; rel="next last"')).toBe('/p3');
    expect(nextLink('</p1>; rel="first", </p9>; rel="last"')).toBeUndefined();
    expect(nextLink('</p2>; rel="nextish"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
    expect(nextLink('')).toBeUndefined();
  });
});
