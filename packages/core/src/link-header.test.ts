import { findLink, parseLinkHeader } from './link-header.js';

describe('parseLinkHeader', () => {
  it.each([
    ['one link', '</items?page=2>; rel="next"', [['/items?page=2', ['next']]]],
    [
      'several links, as GitHub sends them',
      '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"',
      [
        ['https://api.github.com/x?page=2', ['next']],
        ['https://api.github.com/x?page=5', ['last']],
      ],
    ],
    ['a token rel', '</p2>;rel=next', [['/p2', ['next']]]],
    ['a quoted rel with several types', '</p2>; rel="next last"', [['/p2', ['next', 'last']]]],
    ['upper-case names and types', '</p2>; REL="Next"', [['/p2', ['next']]]],
    ['spaces around =', '</p2> ; rel = "next"', [['/p2', ['next']]]],
    [
      'commas and semicolons inside the target and quoted strings',
      '</a,b;c>; title="x, y; z"; rel="next", </d>; rel=prev',
      [
        ['/a,b;c', ['next']],
        ['/d', ['prev']],
      ],
    ],
    ['an escaped quote', '</p2>; title="say \\"hi\\""; rel=next', [['/p2', ['next']]]],
    ['the first rel wins (RFC 8288 §3.3)', '</p2>; rel=next; rel=prev', [['/p2', ['next']]]],
    ['no rel', '</p2>; title=x', [['/p2', []]]],
    ['junk before a link is skipped', 'junk, </p2>; rel=next', [['/p2', ['next']]]],
    ['an unterminated target ends the header', '</p2>; rel=next, <http://x', [['/p2', ['next']]]],
    ['an unterminated quoted string', '</p2>; rel="next', [['/p2', ['next']]]],
    ['empty', '', []],
  ])('reads %s', (_label, header, expected) => {
    expect(parseLinkHeader(header).map((link) => [link.target, link.rel])).toEqual(expected);
  });

  it('unescapes quoted parameters and keeps the first of each name', () => {
    const [link] = parseLinkHeader('</p>; title="a \\"b\\""; Title=c; type=text/html');
    expect(link?.params).toEqual({ title: 'a "b"', type: 'text/html' });
  });

  it('lends no rel from a polluted Object.prototype', () => {
    (Object.prototype as Record<string, unknown>).rel = 'next';
    try {
      expect(parseLinkHeader('</p2>; title=x')[0]?.rel).toEqual([]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).rel;
    }
  });
});

describe('findLink', () => {
  it('resolves a relative target against the response URL', () => {
    expect(findLink('<?page=2>; rel="next"', 'https://a.example/v1/items?page=1')?.href).toBe(
      'https://a.example/v1/items?page=2',
    );
    expect(findLink('</v2/items>; rel=next', 'https://a.example/v1/items')?.href).toBe(
      'https://a.example/v2/items',
    );
  });

  it('finds next among several relation types and links', () => {
    const header = '</first>; rel="first", </n>; rel="prefetch next"';
    expect(findLink(header, 'http://h/')?.href).toBe('http://h/n');
  });

  it('ignores a link about another resource (anchor), and gives undefined without next', () => {
    expect(findLink('</n>; rel=next; anchor="/other"', 'http://h/')).toBeUndefined();
    expect(findLink('</l>; rel=last', 'http://h/')).toBeUndefined();
    expect(findLink(null, 'http://h/')).toBeUndefined();
    expect(findLink('<http://[bad>; rel=next', 'http://h/')).toBeUndefined();
  });
});
