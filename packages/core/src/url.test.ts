import { isHttpUrl, originOf } from './url.js';

describe('originOf', () => {
  // Each after one whose origin its href starts with: the last origin must not be taken for its own.
  const urls = [
    'https://api.example/v1/items?page=2#top',
    'https://api.example.evil/v1',
    'https://api.example/',
    'https://api.example:8443/v1',
    'https://api.example/',
    'https://api.example.evil',
    'http://127.0.0.1:8080/',
    'http://127.0.0.1:80/',
    'http://[::1]:3000/x',
    'https://u:p@api.example/private', // userinfo: not in the origin
    'HTTP://API.EXAMPLE:80/upper', // normalised by the parser
  ];

  it('is url.origin for every http(s) URL, in any order', () => {
    for (const text of [...urls, ...urls.slice().reverse()]) {
      const url = new URL(text);
      expect([text, originOf(url)]).toEqual([text, url.origin]);
    }
  });
});

describe('isHttpUrl', () => {
  it('holds for http: and https: only', () => {
    expect(
      ['http://a/', 'https://a/', 'ftp://a/', 'ws://a/', 'httpx://a/'].map((u) =>
        isHttpUrl(new URL(u)),
      ),
    ).toEqual([true, true, false, false, false]);
  });
});
