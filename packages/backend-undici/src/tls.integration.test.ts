// TLS, mTLS and HTTP/2 of the undici transport against real https and node:http2 servers on
// 127.0.0.1, with certificates made in the test run (a private CA, client, expired, wrong host).
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createClient, isTransportError, type TransportError } from '@extapi/core';
import { createTlsFixtures, startTestServer, type TestServer } from '@extapi/core/testing';
import { type UndiciResponseData, type UndiciTransportOptions, undiciTransport } from './index.js';

const tls = createTlsFixtures();
/** Answers with the protocol and the client certificate's subject, when there is one. */
const whoami = (
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
) => {
  const socket = req.socket as TLSSocket;
  const peer =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  res.end(JSON.stringify({ httpVersion: req.httpVersion, client: peer?.subject?.CN ?? null }));
};

let trusted: TestServer;
let mutual: TestServer;
let expired: TestServer;
let wrongHost: TestServer;
let h2: TestServer;
let tls12: HttpsServer;
let tls12Url: string;

beforeAll(async () => {
  [trusted, mutual, expired, wrongHost, h2] = await Promise.all([
    startTestServer(whoami, { tls: tls.server }),
    startTestServer(whoami, { tls: { ...tls.server, ca: tls.ca, requestCert: true } }),
    startTestServer(whoami, { tls: tls.expired }),
    startTestServer(whoami, { tls: tls.wrongHost }),
    startTestServer(whoami, { tls: tls.server, http2: true }),
  ]);
  tls12 = createHttpsServer({ ...tls.server, maxVersion: 'TLSv1.2' }, whoami);
  await new Promise<void>((resolve) => tls12.listen(0, '127.0.0.1', resolve));
  tls12Url = `https://127.0.0.1:${(tls12.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([trusted, mutual, expired, wrongHost, h2].map((server) => server.close()));
  tls12.closeAllConnections();
  await new Promise((resolve) => tls12.close(resolve));
});

/** GETs `url` through a fresh undici transport with `options`, then closes it. */
async function get(url: string, options: UndiciTransportOptions = {}) {
  const client = createClient([undiciTransport(options)]);
  try {
    const res = await client.get(url);
    return {
      res,
      body: JSON.parse(await res.text()) as { httpVersion: string; client: string | null },
    };
  } finally {
    await client.close();
  }
}

async function transportErrorOf(url: string, options: UndiciTransportOptions = {}) {
  const error = await get(url, options).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (caught: unknown) => caught,
  );
  expect(isTransportError(error)).toBe(true);
  return error as TransportError;
}

describe('undiciTransport tls', () => {
  it('rejects a server certificate of a private CA without tls.ca', async () => {
    const error = await transportErrorOf(`${trusted.url}/`);
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.url).toBe(`${trusted.url}/`);
  });

  it('accepts a server certificate of a private CA given as tls.ca', async () => {
    const { res } = await get(`${trusted.url}/`, { tls: { ca: tls.ca } });
    expect(res.status).toBe(200);
  });

  it('rejects an expired certificate with CERT_HAS_EXPIRED, even from a trusted CA', async () => {
    const error = await transportErrorOf(`${expired.url}/`, { tls: { ca: tls.ca } });
    expect(error.code).toBe('CERT_HAS_EXPIRED');
  });

  it('rejects a certificate for another host name with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    const error = await transportErrorOf(`${wrongHost.url}/`, { tls: { ca: tls.ca } });
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('checks the certificate against tls.servername when one is given', async () => {
    const { res } = await get(`${wrongHost.url}/`, {
      tls: { ca: tls.ca, servername: 'wrong.example' },
    });
    expect(res.status).toBe(200);
  });

  it('refuses a server below tls.minVersion instead of downgrading', async () => {
    expect((await get(`${tls12Url}/`, { tls: { ca: tls.ca } })).res.status).toBe(200);
    const error = await transportErrorOf(`${tls12Url}/`, {
      tls: { ca: tls.ca, minVersion: 'TLSv1.3' },
    });
    expect(error.code).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });

  it('is rejected by a server that requires a client certificate when it has none', async () => {
    const error = await transportErrorOf(`${mutual.url}/`, { tls: { ca: tls.ca } });
    // TLS 1.3 reports the missing certificate as an alert after the handshake, or a reset.
    expect(error.code).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|HANDSHAKE_FAILURE/);
  });

  it('presents tls.cert and tls.key to a server that requires a client certificate', async () => {
    const { body } = await get(`${mutual.url}/`, {
      tls: { ca: tls.ca, cert: tls.client.cert, key: tls.client.key },
    });
    expect(body.client).toBe('client');
  });

  it('opens an encrypted client key with tls.passphrase', async () => {
    const { body } = await get(`${mutual.url}/`, {
      tls: {
        ca: tls.ca,
        cert: tls.client.cert,
        key: tls.client.encryptedKey,
        passphrase: tls.client.passphrase,
      },
    });
    expect(body.client).toBe('client');
  });

  it('rejectUnauthorized: false accepts any certificate and warns once per process', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(
        (await get(`${wrongHost.url}/`, { tls: { rejectUnauthorized: false } })).res.status,
      ).toBe(200);
      await undiciTransport({ tls: { rejectUnauthorized: false } }).close();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/rejectUnauthorized is false/);
      expect(warn.mock.calls[0]![1]).toEqual({ code: 'EXTAPI_TLS_INSECURE' });
    } finally {
      warn.mockRestore();
    }
  });

  it('rejectUnauthorized: false warns through the logger when one is given', async () => {
    const logger = { warn: jest.fn() };
    await undiciTransport({ tls: { rejectUnauthorized: false }, logger }).close();
    expect(logger.warn).toHaveBeenCalledWith(
      { option: 'tls.rejectUnauthorized' },
      expect.stringMatching(/not checked/),
    );
    await undiciTransport({ tls: { ca: tls.ca }, logger }).close();
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});

describe('undiciTransport allowH2', () => {
  it('speaks HTTP/2 to a server that offers it and says so in res.raw.httpVersion', async () => {
    const { res, body } = await get(`${h2.url}/`, { tls: { ca: tls.ca }, allowH2: true });
    expect(body.httpVersion).toBe('2.0');
    expect((res.raw as UndiciResponseData).httpVersion).toBe('2');
  });

  it('falls back to HTTP/1.1 on a server without h2, and says so', async () => {
    const { res, body } = await get(`${trusted.url}/`, { tls: { ca: tls.ca }, allowH2: true });
    expect(body.httpVersion).toBe('1.1');
    expect((res.raw as UndiciResponseData).httpVersion).toBe('1.1');
  });

  it('reports HTTP/1.1 without allowH2', async () => {
    const { res, body } = await get(`${trusted.url}/`, { tls: { ca: tls.ca } });
    expect(body.httpVersion).toBe('1.1');
    expect((res.raw as UndiciResponseData).httpVersion).toBe('1.1');
  });
});
