import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files of one certificate: the certificate and its private key. */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  /** The CA's certificate (trust anchor for servers and clients). */
  caFile: string;
  /** Issues a certificate signed by this CA; `names` become DNS/IP subjectAltNames. */
  issue(name: string, options?: { names?: string[]; client?: boolean; days?: number }): IssuedCert;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * A throwaway certificate authority for tests (openssl, EC P-256 keys), in a temp directory.
 * Server certificates get `localhost` and `127.0.0.1` by default.
 */
export function createTestPki(label = "taskorch-test"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "taskorch-pki-"));
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.crt");
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", caKey], dir);
  openssl(["req", "-x509", "-new", "-key", caKey, "-sha256", "-days", "2", "-subj", `/CN=${label} CA`, "-out", caFile,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  let serial = 1;
  return {
    dir,
    caFile,
    issue(name, options = {}) {
      const base = join(dir, `${name}-${serial}`);
      const keyFile = `${base}.key`;
      const csr = `${base}.csr`;
      const certFile = `${base}.crt`;
      const ext = `${base}.ext`;
      const names = options.names ?? (options.client ? [] : ["localhost", "127.0.0.1"]);
      const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
      writeFileSync(
        ext,
        [
          "basicConstraints=CA:FALSE",
          "keyUsage=critical,digitalSignature,keyEncipherment",
          `extendedKeyUsage=${options.client ? "clientAuth" : "serverAuth,clientAuth"}`,
          ...(san ? [`subjectAltName=${san}`] : []),
        ].join("\n"),
      );
      openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${base}.ec.key`], dir);
      // PKCS#8, which both Node and nats-server read.
      openssl(["pkcs8", "-topk8", "-nocrypt", "-in", `${base}.ec.key`, "-out", keyFile], dir);
      openssl(["req", "-new", "-key", keyFile, "-subj", `/CN=${name}`, "-out", csr], dir);
      openssl(["x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-set_serial", String(1000 + serial++), "-days", String(options.days ?? 2), "-sha256", "-extfile", ext, "-out", certFile], dir);
      return { certFile, keyFile };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
