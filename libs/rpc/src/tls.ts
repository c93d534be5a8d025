/**
 * Server TLS for gRPC, with certificates re-read when their files change.
 *
 * cert-manager (or any rotation) replaces the files in place (a Secret volume swaps a symlink), so
 * the server polls their content every `pollIntervalMs` and hands a new pair to grpc-js only when
 * it changed and is valid: a half-written or mismatched pair is logged and the previous one kept,
 * so a bad rotation never takes the server down. New connections get the new certificate; open
 * connections keep theirs until they reconnect.
 *
 * With `clientCaFile` the server requires client certificates signed by that CA (mutual TLS).
 */
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { experimental, ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "@taskorch/telemetry";

export interface GrpcTlsConfig {
  /** PEM certificate chain the server presents (GRPC_TLS_CERT_FILE). */
  certFile: string;
  /** PEM private key of certFile (GRPC_TLS_KEY_FILE). */
  keyFile: string;
  /** PEM CA bundle; when set, clients must present a certificate it signed (GRPC_TLS_CLIENT_CA_FILE). */
  clientCaFile?: string;
  /** How often the files are checked for changes (SECRET_FILES_POLL_INTERVAL). */
  pollIntervalMs: number;
}

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
  fingerprint: string;
}

/** Throws, naming the file (never its content), unless cert and key are PEM and belong together. */
function checkMaterial(config: GrpcTlsConfig, cert: Buffer, key: Buffer, ca: Buffer | null): Material {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`GRPC_TLS_CERT_FILE ${config.certFile} does not hold a PEM certificate`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The cause could quote the key: leave it out.
    throw new Error(`GRPC_TLS_KEY_FILE ${config.keyFile} does not hold a PEM private key`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error(`GRPC_TLS_KEY_FILE ${config.keyFile} is not the key of the certificate in GRPC_TLS_CERT_FILE ${config.certFile}`);
  }
  if (ca !== null) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new Error(`GRPC_TLS_CLIENT_CA_FILE ${config.clientCaFile} does not hold a PEM certificate`, { cause: err });
    }
  }
  const fingerprint = createHash("sha256").update(cert).update(key).update(ca ?? Buffer.alloc(0)).digest("hex");
  return { cert, key, ca, fingerprint };
}

function readSync(env: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${env} ${path} cannot be read`, { cause: err });
  }
}

/**
 * A grpc-js CertificateProvider over the files: loads them at once (so a bad path fails the start,
 * naming the variable), then polls them and notifies grpc-js of each valid change.
 */
export class RotatingCertificateProvider implements experimental.CertificateProvider {
  private material: Material;
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Number of certificate changes applied since start (tests and logs). */
  reloads = 0;

  constructor(
    private readonly config: GrpcTlsConfig,
    private readonly logger: Logger,
  ) {
    this.material = checkMaterial(
      config,
      readSync("GRPC_TLS_CERT_FILE", config.certFile),
      readSync("GRPC_TLS_KEY_FILE", config.keyFile),
      config.clientCaFile ? readSync("GRPC_TLS_CLIENT_CA_FILE", config.clientCaFile) : null,
    );
    this.timer = setInterval(() => void this.poll(), config.pollIntervalMs);
    this.timer.unref();
  }

  /** Subject and expiry of the certificate served now (logged at start and on rotation). */
  describe(): { subject: string; valid_to: string; mutual_tls: boolean } {
    const x = new X509Certificate(this.material.cert);
    return { subject: x.subject.replace(/\n/g, ", "), valid_to: x.validTo, mutual_tls: this.material.ca !== null };
  }

  /** Reads the files once; applies them when they changed and are valid. Resolves true when applied. */
  async poll(): Promise<boolean> {
    if (this.polling) return false;
    this.polling = true;
    try {
      const [cert, key, ca] = await Promise.all([
        readFile(this.config.certFile),
        readFile(this.config.keyFile),
        this.config.clientCaFile ? readFile(this.config.clientCaFile) : Promise.resolve(null),
      ]);
      const next = checkMaterial(this.config, cert, key, ca);
      if (next.fingerprint === this.material.fingerprint) return false;
      this.material = next;
      this.reloads++;
      for (const l of this.identityListeners) l({ certificate: next.cert, privateKey: next.key });
      for (const l of this.caListeners) if (next.ca) l({ caCertificate: next.ca });
      this.logger.info(this.describe(), "GrpcTls: certificate files changed; serving the new certificate");
      return true;
    } catch (err) {
      // Mid-rotation (one file written, not the other) or a bad file: keep serving the old pair.
      this.logger.warn({ err: err instanceof Error ? { message: err.message } : undefined }, "GrpcTls: certificate files unusable; keeping the previous certificate");
      return false;
    } finally {
      this.polling = false;
    }
  }

  // grpc-js registers its server watcher only after adding these listeners, so the first update is
  // delivered on the next microtask, once the watcher is there to receive it.
  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener({ certificate: this.material.cert, privateKey: this.material.key });
    });
  }
  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.caListeners.has(listener) && this.material.ca) listener({ caCertificate: this.material.ca });
    });
  }
  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Server credentials for `config`, or plaintext when it is undefined. */
export function serverCredentialsFor(config: GrpcTlsConfig | undefined, logger: Logger): { credentials: ServerCredentials; provider?: RotatingCertificateProvider } {
  if (!config) return { credentials: ServerCredentials.createInsecure() };
  const provider = new RotatingCertificateProvider(config, logger);
  // grpc-js 1.14 passes its first argument on as the identity provider and its second as the CA
  // provider (the declared parameter names are swapped); one object serves both, so the order only
  // matters for "no client CA" (null), which tls.test.ts covers.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, config.clientCaFile ? provider : null, config.clientCaFile !== undefined);
  return { credentials, provider };
}

/** True for addresses only this host can reach (plaintext is tolerated there, for development). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}

/** The server's TLS and token settings from a loaded TaskorchConfig (GRPC_TLS_*, AUTH_TOKENS_FILE). */
export function grpcSecurityFromSettings(c: {
  grpcTlsCertFile?: string | undefined;
  grpcTlsKeyFile?: string | undefined;
  grpcTlsClientCaFile?: string | undefined;
  authTokensFile?: string | undefined;
  secretFilesPollIntervalMs: number;
}): { tls?: GrpcTlsConfig; auth?: { file: string; pollIntervalMs: number } } {
  return {
    ...(c.grpcTlsCertFile && c.grpcTlsKeyFile
      ? {
          tls: {
            certFile: c.grpcTlsCertFile,
            keyFile: c.grpcTlsKeyFile,
            ...(c.grpcTlsClientCaFile ? { clientCaFile: c.grpcTlsClientCaFile } : {}),
            pollIntervalMs: c.secretFilesPollIntervalMs,
          },
        }
      : {}),
    ...(c.authTokensFile ? { auth: { file: c.authTokensFile, pollIntervalMs: c.secretFilesPollIntervalMs } } : {}),
  };
}
