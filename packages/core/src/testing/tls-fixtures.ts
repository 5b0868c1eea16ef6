// Certificates for TLS and mTLS tests, made in the test run with the openssl CLI: a private CA and
// leaf certificates signed by it (server, client, expired, wrong hostname). Test kit only, never for production.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its private key, both PEM. */
export interface TlsKeyPair {
  /** The certificate, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

/** What {@link createTlsFixtures} makes; every leaf is signed by `ca` unless said otherwise. */
export interface TlsFixtures {
  /** The private CA's certificate: what a client passes as `ca` to trust the servers below. */
  ca: string;
  /** A server certificate for `127.0.0.1` and `localhost`, valid for two days. */
  server: TlsKeyPair;
  /** A client certificate (extendedKeyUsage clientAuth), for servers that require one. */
  client: TlsKeyPair & {
    /** The same key encrypted with AES-256, opened with `passphrase`. */
    encryptedKey: string;
    /** The passphrase that opens `encryptedKey`. */
    passphrase: string;
  };
  /** A server certificate for `127.0.0.1` that expired in 2020. */
  expired: TlsKeyPair;
  /** A valid server certificate for `wrong.example` only: a hostname mismatch on 127.0.0.1. */
  wrongHost: TlsKeyPair;
}

let cached: TlsFixtures | undefined;

/**
 * Makes (once per process, then returns the same) a private CA and certificates signed by it,
 * with the `openssl` CLI (`OPENSSL_BIN` overrides which one). EC P-256 keys keep it fast (~100 ms).
 * Throws a clear error when openssl is missing: TLS tests must fail then, not skip.
 * @example
 * const tls = createTlsFixtures();
 * const server = await startTestServer(handler, { tls: tls.server });
 * const transport = undiciTransport({ tls: { ca: tls.ca } });
 */
export function createTlsFixtures(): TlsFixtures {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'extapi-tls-'));
  const openssl = (...args: string[]) => {
    try {
      execFileSync(process.env.OPENSSL_BIN ?? 'openssl', args, { cwd: dir, stdio: 'pipe' });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`createTlsFixtures: openssl ${args[0]} failed: ${stderr || error}`);
    }
  };
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=extapi test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    // `openssl ca` rather than `x509 -req`: OpenSSL 3.0 can only back-date (for the expired
    // certificate) through `ca -startdate/-enddate`, and one path for every leaf is simpler.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = test',
        '[test]',
        'database = index.txt',
        'new_certs_dir = .',
        'certificate = ca.crt',
        'private_key = ca.key',
        'serial = serial',
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'default_days = 2',
        '[any]',
        'commonName = supplied',
      ].join('\n'),
    );
    const leaf = (name: string, subjectAltName: string, usage: string, dates: string[] = []) => {
      openssl(
        'req',
        '-new',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
      );
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName = ${subjectAltName}\nextendedKeyUsage = ${usage}\nbasicConstraints = CA:FALSE\n`,
      );
      openssl(
        'ca',
        '-batch',
        '-notext',
        '-config',
        'ca.cnf',
        '-in',
        `${name}.csr`,
        '-out',
        `${name}.crt`,
        '-extfile',
        `${name}.ext`,
        ...dates,
      );
      return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
    };
    const local = 'IP:127.0.0.1, DNS:localhost';
    const server = leaf('server', local, 'serverAuth');
    const client = leaf('client', 'DNS:extapi-test-client', 'clientAuth');
    const expired = leaf('expired', local, 'serverAuth', [
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
    ]);
    const wrongHost = leaf('wrong', 'DNS:wrong.example', 'serverAuth');
    const passphrase = 'extapi-test-passphrase';
    openssl(
      'pkey',
      '-in',
      'client.key',
      '-aes256',
      '-passout',
      `pass:${passphrase}`,
      '-out',
      'client.enc.key',
    );
    cached = {
      ca: read('ca.crt'),
      server,
      client: { ...client, encryptedKey: read('client.enc.key'), passphrase },
      expired,
      wrongHost,
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
