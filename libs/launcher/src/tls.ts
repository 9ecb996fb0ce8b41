/**
 * TLS for a cell's NATS: a private CA and a server certificate for the given names (loopback by
 * default), made with the `openssl` CLI (Debian's, no npm dependency). Keys are 0600; an existing
 * CA and certificate are kept (clients configured with the CA keep working across runs).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export class TlsError extends Error {
  override readonly name = 'TlsError';
}

function openssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? '';
    throw new TlsError(`openssl ${args[0]} failed: ${stderr || (e as Error).message} (is the openssl CLI installed?)`, { cause: e });
  }
}

export interface CertificateOptions {
  /** Subject alternative names: `DNS:host` / `IP:addr` (default loopback). */
  readonly altNames?: readonly string[];
  readonly days?: number;
}

/** Writes `ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem` under `dir` unless they exist. */
export function ensureCertificates(dir: string, o: CertificateOptions = {}): TlsFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = { ca: join(dir, 'ca.pem'), caKey: join(dir, 'ca-key.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
  const days = String(o.days ?? 825);
  if (!existsSync(f.ca) || !existsSync(f.caKey)) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.caKey, '-out', f.ca,
      '-days', days, '-subj', '/CN=tessera local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  if (!existsSync(f.cert) || !existsSync(f.key)) {
    const csr = join(dir, 'server.csr');
    const ext = join(dir, 'server.ext');
    const names = o.altNames ?? ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
    writeFileSync(ext, `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.key, '-out', csr, '-subj', '/CN=tessera nats']);
    openssl(['x509', '-req', '-in', csr, '-CA', f.ca, '-CAkey', f.caKey, '-CAcreateserial', '-out', f.cert, '-days', days, '-extfile', ext]);
  }
  for (const k of [f.caKey, f.key]) chmodSync(k, 0o600);
  return { ca: f.ca, cert: f.cert, key: f.key };
}
