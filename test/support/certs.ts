/**
 * Test certificates generated with the `openssl` CLI: a CA, a server certificate for localhost /
 * 127.0.0.1 / ::1 signed by it, a client certificate signed by it, and an unrelated CA (for "wrong
 * CA" tests). Generated once per process into a temporary directory that is removed afterwards;
 * everything is returned as PEM strings.
 *
 * @example
 * ```ts
 * const certs = await getTestCertificates();
 * await listenTls({ cert: certs.serverCert, key: certs.serverKey }, onTransport);
 * await connectTls({ host: "localhost", port, ca: certs.ca });
 * ```
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const OPENSSL = process.env["OPENSSL"] ?? "openssl";

/** PEM strings of the test PKI. */
export interface TestCertificates {
  /** The CA that signed the server and client certificates. */
  readonly ca: string;
  /** Server certificate: CN=localhost, subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate: CN=uamqp-test-client, O=uamqp tests, extendedKeyUsage clientAuth. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Subject common name of the client certificate. */
  readonly clientCommonName: string;
  /** SHA-256 fingerprint of the client certificate, as Node reports it (`AB:CD:…`). */
  readonly clientFingerprint256: string;
  /** A CA that signed nothing here: trusting only it must fail verification. */
  readonly otherCa: string;
}

const CLIENT_CN = "uamqp-test-client";

let cached: Promise<TestCertificates> | undefined;

/** The test certificates (generated on first call, then cached for the process). */
export function getTestCertificates(): Promise<TestCertificates> {
  cached ??= generate();
  return cached;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run(OPENSSL, args, { cwd, timeout: 30_000 });
}

/** A self-signed CA certificate and key (EC P-256: fast to generate). */
async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "3",
    "-subj",
    `/CN=${cn}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** A leaf key, CSR and certificate signed by `ca`, with the extensions given. */
async function makeLeaf(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await openssl(dir, [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  await writeFile(join(dir, `${name}.ext`), `${extensions.join("\n")}\n`);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-set_serial",
    `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
}

async function generate(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "uamqp-certs-"));
  try {
    await makeCa(dir, "ca", "uamqp test CA");
    await makeCa(dir, "other-ca", "uamqp unrelated CA");
    await makeLeaf(dir, "server", "/CN=localhost", [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ]);
    await makeLeaf(dir, "client", `/CN=${CLIENT_CN}/O=uamqp tests`, [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=clientAuth",
    ]);
    const read = (file: string): Promise<string> => readFile(join(dir, file), "utf8");
    const [ca, serverCert, serverKey, clientCert, clientKey, otherCa] = await Promise.all([
      read("ca.crt"),
      read("server.crt"),
      read("server.key"),
      read("client.crt"),
      read("client.key"),
      read("other-ca.crt"),
    ]);
    return {
      ca,
      serverCert,
      serverKey,
      clientCert,
      clientKey,
      clientCommonName: CLIENT_CN,
      clientFingerprint256: new X509Certificate(clientCert).fingerprint256,
      otherCa,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
