/**
 * A throw-away self-signed certificate for 127.0.0.1. kubectl (client-go) only sends bearer tokens
 * over TLS, so the sandbox serves https; clients connect with `insecure-skip-tls-verify: true`.
 * Node cannot mint X.509 certificates itself, so `openssl` makes one (argument array, no shell).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSignedCertificate {
  key: string;
  cert: string;
}

let cached: Promise<SelfSignedCertificate | undefined> | undefined;

async function generate(): Promise<SelfSignedCertificate | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'iac-kube-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await run(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
        '-days', '2', '-subj', '/CN=iac-sandbox', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { timeout: 15_000 },
    );
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch {
    return undefined; // no openssl: the caller falls back to plain http
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One certificate per process (generation takes ~50 ms); undefined when openssl is unavailable. */
export function selfSignedCertificate(): Promise<SelfSignedCertificate | undefined> {
  cached ??= generate();
  return cached;
}
