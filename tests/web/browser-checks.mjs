// What a browser forbids or does its own way, checked rather than worked around: these hold in
// Chromium, and README.md's Runtimes notes say so. The client sends what it is given; the browser
// drops what a page may not set or read, and hides redirects from fetch's `redirect: 'manual'`
// (fetchTransport() rejects those with ERR_REDIRECT_HIDDEN).
import { isTransportError } from '@extapi/core';
import { equal, ok, rejection } from './assert.mjs';

/** The browser-only checks, as `[title, run]` pairs for checks.mjs. */
export function browserChecks({ client, seen, other, control }) {
  return [
    [
      'the browser drops forbidden request headers (Cookie, Referer, Accept-Encoding) and sends its Origin',
      async () => {
        const forbidden = {
          cookie: 'session=abc',
          referer: 'http://partner.example/',
          'accept-encoding': 'identity',
        };
        const echo = await (await client([], { headers: forbidden }).get('/echo')).json();
        equal(echo.headers.cookie, undefined);
        ok(echo.headers.referer !== forbidden.referer, `Referer was ${echo.headers.referer}`);
        ok(echo.headers['accept-encoding'] !== 'identity', 'Accept-Encoding was sent as set');
        equal(echo.headers.origin, location.origin);
      },
    ],
    [
      'Set-Cookie is not readable from a response; an exposed header is',
      async () => {
        const res = await client([]).get('/set-cookie');
        equal(await res.text(), 'ok');
        equal(res.headers.get('set-cookie'), null);
        equal(res.headers.get('x-marker'), 'visible');
      },
    ],
    [
      'a call with a custom header is preceded by a CORS preflight',
      async () => {
        const c = client([], { headers: { 'x-preflighted': 'yes' } });
        equal((await c.get('/echo')).status, 200);
        ok((await seen()).preflights >= 1, 'no OPTIONS preflight reached the server');
      },
    ],
    [
      'a response without CORS headers rejects with TransportError ERR_NETWORK (the server did answer)',
      async () => {
        const error = await rejection(client([]).get('/no-cors'));
        equal(isTransportError(error), true, String(error));
        equal(error.code, 'ERR_NETWORK');
        equal((await seen()).counts['/no-cors'], 1);
      },
    ],
    [
      "a redirect the browser hides (redirect: 'manual' gives an opaque response) rejects with ERR_REDIRECT_HIDDEN",
      async () => {
        const error = await rejection(client([]).get('/to-same-origin'));
        equal(error.code, 'ERR_REDIRECT_HIDDEN', String(error));
        const urls = (await seen()).seen.map((s) => s.url);
        equal(JSON.stringify(urls), '["/to-same-origin"]');
      },
    ],
    [
      'a redirect to another origin sends nothing there (no credential leaves the origin)',
      async () => {
        await control(other, 'reset');
        const c = client([], { headers: { authorization: 'Bearer token-1', 'x-api-key': 'k' } });
        equal((await rejection(c.get('/to-other-origin'))).code, 'ERR_REDIRECT_HIDDEN');
        equal((await seen()).seen[0].headers.authorization, 'Bearer token-1');
        equal((await control(other, 'seen')).seen.length, 0);
      },
    ],
  ];
}
