import { describe, expect, it } from 'vitest';
import { firstParams, MAX_PAGES, nextStep, pageParams, pagingOf, PagingError, plannedIndexes, type PageFacts, type Paging } from './pagination.ts';

const facts = (over: Partial<PageFacts>): PageFacts => ({ index: 0, count: 100, read: 100, digest: 'd1', ...over });

describe('pagingOf', () => {
  it('fills in the defaults', () => {
    expect(pagingOf(undefined)).toEqual({ type: 'none' });
    expect(pagingOf({ type: 'page' })).toEqual({ type: 'page', size: 100, pageParam: 'page', sizeParam: 'per_page', firstPage: 1 });
    expect(pagingOf({ type: 'offset', pageSize: 50 })).toEqual({ type: 'offset', size: 50, offsetParam: 'offset', limitParam: 'limit' });
    expect(pagingOf({ type: 'cursor', cursorPath: 'meta.next' })).toEqual({ type: 'cursor', size: 100, sizeParam: 'limit', cursorParam: 'cursor', cursorPath: ['meta', 'next'] });
    expect(pagingOf({ type: 'next-link', nextPath: 'links.next' })).toEqual({ type: 'next-link', nextPath: ['links', 'next'] });
    expect(pagingOf({ type: 'link-header' })).toEqual({ type: 'link-header' });
  });

  it('refuses cursor without cursorPath and next-link without nextPath', () => {
    expect(() => pagingOf({ type: 'cursor' })).toThrow(PagingError);
    expect(() => pagingOf({ type: 'cursor' })).toThrow(/pagination.cursorPath/);
    expect(() => pagingOf({ type: 'next-link' })).toThrow(/pagination.nextPath/);
  });
});

describe('request parameters', () => {
  const page = pagingOf({ type: 'page', firstPage: 0, pageParam: 'p', sizeParam: 'n', pageSize: 25 }) as Extract<Paging, { type: 'page' }>;
  const offset = pagingOf({ type: 'offset', pageSize: 25 }) as Extract<Paging, { type: 'offset' }>;

  it('numbers pages from firstPage and offsets from 0', () => {
    expect(firstParams(page)).toEqual({ p: '0', n: '25' });
    expect(pageParams(page, 3)).toEqual({ p: '3', n: '25' });
    expect(firstParams(offset)).toEqual({ offset: '0', limit: '25' });
    expect(pageParams(offset, 3)).toEqual({ offset: '75', limit: '25' });
  });

  it('asks a cursor listing for its size, and the others for nothing', () => {
    expect(firstParams(pagingOf({ type: 'cursor', cursorPath: 'c', sizeParam: 'size', pageSize: 7 }))).toEqual({ size: '7' });
    expect(firstParams(pagingOf({ type: 'link-header' }))).toEqual({});
    expect(firstParams(pagingOf({ type: 'none' }))).toEqual({});
  });

  it('plans the remaining pages from the total, only for a full first page', () => {
    expect(plannedIndexes(offset, 251, 25)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(plannedIndexes(offset, 250, 25)).toHaveLength(9);
    expect(plannedIndexes(offset, 25, 25)).toEqual([]);
    expect(plannedIndexes(offset, 250, 20)).toEqual([]);
    expect(plannedIndexes(offset, undefined, 25)).toEqual([]);
    expect(plannedIndexes(pagingOf({ type: 'cursor', cursorPath: 'c' }), 250, 100)).toEqual([]);
  });
});

describe('nextStep', () => {
  it('page and offset: go on after a full page, end on a short or empty one or at the total', () => {
    const page = pagingOf({ type: 'page' });
    expect(nextStep(page, facts({}), new Set())).toEqual({ kind: 'params', params: { page: '2', per_page: '100' } });
    expect(nextStep(page, facts({ count: 99 }), new Set())).toEqual({ kind: 'end' });
    expect(nextStep(page, facts({ count: 0 }), new Set())).toEqual({ kind: 'end' });
    expect(nextStep(page, facts({ total: 100 }), new Set())).toEqual({ kind: 'end' });
    expect(nextStep(page, facts({ total: 101 }), new Set())).toMatchObject({ kind: 'params' });
    const offset = pagingOf({ type: 'offset' });
    expect(nextStep(offset, facts({ index: 2, read: 300 }), new Set())).toEqual({ kind: 'params', params: { offset: '300', limit: '100' } });
  });

  it('page and offset: a page with the same records as the page before is a loop (the parameter is ignored)', () => {
    const step = nextStep(pagingOf({ type: 'page' }), facts({ index: 1, read: 200, digest: 'same', previousDigest: 'same' }), new Set());
    expect(step.kind).toBe('loop');
    expect(step.kind === 'loop' && step.reason).toContain('ignores page');
  });

  it('cursor: follows until the cursor is empty, and refuses a cursor seen before', () => {
    const cursor = pagingOf({ type: 'cursor', cursorPath: 'next' });
    const seen = new Set<string>();
    expect(nextStep(cursor, facts({ cursor: 'abc' }), seen)).toEqual({ kind: 'params', params: { cursor: 'abc', limit: '100' } });
    expect(nextStep(cursor, facts({ index: 1, cursor: 'abc' }), seen)).toMatchObject({ kind: 'loop', reason: expect.stringContaining('repeats') });
    expect(nextStep(cursor, facts({ cursor: '' }), seen)).toEqual({ kind: 'end' });
    expect(nextStep(cursor, facts({}), seen)).toEqual({ kind: 'end' });
  });

  it('links: follows a next link once, ends without one', () => {
    for (const paging of [pagingOf({ type: 'next-link', nextPath: 'links.next' }), pagingOf({ type: 'link-header' })]) {
      const seen = new Set(['https://hr.example/e']);
      expect(nextStep(paging, facts({ next: 'https://hr.example/e?page=2' }), seen)).toEqual({ kind: 'follow', link: 'https://hr.example/e?page=2' });
      expect(nextStep(paging, facts({ next: 'https://hr.example/e?page=2' }), seen).kind).toBe('loop');
      expect(nextStep(paging, facts({ next: 'https://hr.example/e' }), seen).kind).toBe('loop');
      expect(nextStep(paging, facts({ next: '' }), seen)).toEqual({ kind: 'end' });
    }
  });

  it('none ends after its one page; every paging stops at MAX_PAGES', () => {
    expect(nextStep(pagingOf(undefined), facts({}), new Set())).toEqual({ kind: 'end' });
    const step = nextStep(pagingOf({ type: 'cursor', cursorPath: 'c' }), facts({ index: MAX_PAGES - 1, cursor: 'fresh' }), new Set());
    expect(step).toEqual({ kind: 'loop', reason: `the listing did not end within ${MAX_PAGES} pages` });
  });
});
