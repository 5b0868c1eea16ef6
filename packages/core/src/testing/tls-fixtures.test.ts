import { X509Certificate } from 'node:crypto';
import { createTlsFixtures } from './tls-fixtures.js';

describe('createTlsFixtures', () => {
  const tls = createTlsFixtures();
  const ca = new X509Certificate(tls.ca);

  it('signs every leaf with the private CA', () => {
    for (const pair of [tls.server, tls.client, tls.expired, tls.wrongHost]) {
      expect(new X509Certificate(pair.cert).verify(ca.publicKey)).toBe(true);
    }
  });

  it('makes a server certificate for 127.0.0.1 and localhost, valid now', () => {
    const cert = new X509Certificate(tls.server.cert);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now());
  });

  it('makes an expired certificate and one for another hostname', () => {
    expect(new Date(new X509Certificate(tls.expired.cert).validTo).getTime()).toBeLessThan(
      Date.now(),
    );
    const wrong = new X509Certificate(tls.wrongHost.cert);
    expect(wrong.checkIP('127.0.0.1')).toBeUndefined();
    expect(wrong.checkHost('wrong.example')).toBe('wrong.example');
  });

  it('encrypts the client key with the passphrase it returns', () => {
    expect(tls.client.encryptedKey).toContain('ENCRYPTED');
    expect(createTlsFixtures()).toBe(tls);
  });
});
