import { readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { createTestPki, type TestPki } from "@taskorch/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGrpcServer, type GrpcServer } from "./server.js";
import { Client } from "@grpc/grpc-js";
import { isLoopbackHost, RotatingCertificateProvider } from "./tls.js";

const logger = pino({ level: "silent" });

function health(port: number, creds: ReturnType<typeof credentials.createSsl>): Promise<ServiceError | null> {
  const c = new Client(`localhost:${port}`, creds);
  return new Promise((resolve) =>
    c.makeUnaryRequest("/grpc.health.v1.Health/Check", (x: Buffer) => x, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 3000 }, (e) => {
      c.close();
      resolve(e);
    }),
  );
}

/** CN of the certificate the server presents to a new connection. */
function servedCn(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: ["h2"] }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(Array.isArray(cn) ? cn[0]! : cn);
    });
    s.on("error", reject);
  });
}

describe("gRPC server TLS", () => {
  let pki: TestPki;
  let other: TestPki;
  let server: GrpcServer;
  let mtls: GrpcServer;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    pki = createTestPki();
    other = createTestPki("intruder");
    const first = pki.issue("server-one");
    certFile = `${pki.dir}/live.crt`;
    keyFile = `${pki.dir}/live.key`;
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    server = await startGrpcServer({ host: "127.0.0.1", port: 0, logger, services: [], tls: { certFile, keyFile, pollIntervalMs: 60_000 } });
    const s2 = pki.issue("server-mtls");
    mtls = await startGrpcServer({ host: "127.0.0.1", port: 0, logger, services: [], tls: { ...s2, clientCaFile: pki.caFile, pollIntervalMs: 60_000 } });
  });
  afterAll(async () => {
    await server?.close(100);
    await mtls?.close(100);
    pki?.cleanup();
    other?.cleanup();
  });

  it("serves TLS to clients that trust the CA, refuses plaintext", async () => {
    expect(await health(server.port, credentials.createSsl(readFileSync(pki.caFile)))).toBeNull();
    expect((await health(server.port, credentials.createInsecure()))?.code).toBeDefined();
    expect((await health(server.port, credentials.createSsl(readFileSync(other.caFile))))?.code).toBeDefined();
  });

  it("picks up rotated files, keeps the old pair when the new files are broken", async () => {
    const ca = readFileSync(pki.caFile);
    expect(await servedCn(server.port, ca)).toBe("server-one");
    const provider = new RotatingCertificateProvider({ certFile, keyFile, pollIntervalMs: 60_000 }, logger);
    // Mid-rotation: a garbage certificate is refused and the old one kept.
    writeFileSync(certFile, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    expect(await provider.poll()).toBe(false);
    const next = pki.issue("server-two");
    copyFileSync(next.certFile, certFile);
    // Certificate written, key not yet: mismatched pair, refused.
    expect(await provider.poll()).toBe(false);
    copyFileSync(next.keyFile, keyFile);
    expect(await provider.poll()).toBe(true);
    provider.close();
    // The server's own provider polls on its interval; ask it directly through a short-interval server.
    const rotating = await startGrpcServer({ host: "127.0.0.1", port: 0, logger, services: [], tls: { certFile, keyFile, pollIntervalMs: 100 } });
    expect(await servedCn(rotating.port, ca)).toBe("server-two");
    const third = pki.issue("server-three");
    copyFileSync(third.keyFile, keyFile);
    copyFileSync(third.certFile, certFile);
    await expect.poll(() => servedCn(rotating.port, ca), { timeout: 5000, interval: 100 }).toBe("server-three");
    expect(await health(rotating.port, credentials.createSsl(ca))).toBeNull();
    await rotating.close(100);
  });

  it("mutual TLS: a client certificate from the CA is required", async () => {
    const ca = readFileSync(pki.caFile);
    const good = pki.issue("client-good", { client: true });
    const bad = other.issue("client-bad", { client: true });
    expect(await health(mtls.port, credentials.createSsl(ca, readFileSync(good.keyFile), readFileSync(good.certFile)))).toBeNull();
    expect((await health(mtls.port, credentials.createSsl(ca)))?.code).toBeDefined();
    expect((await health(mtls.port, credentials.createSsl(ca, readFileSync(bad.keyFile), readFileSync(bad.certFile))))?.code).toBeDefined();
  });

  it("fails the start naming the variable when a file is missing or wrong", async () => {
    await expect(startGrpcServer({ host: "127.0.0.1", port: 0, logger, services: [], tls: { certFile: "/nope.crt", keyFile, pollIntervalMs: 1000 } })).rejects.toThrow(
      /GRPC_TLS_CERT_FILE \/nope.crt cannot be read/,
    );
    const mismatched = pki.issue("mismatch");
    await expect(startGrpcServer({ host: "127.0.0.1", port: 0, logger, services: [], tls: { certFile: mismatched.certFile, keyFile: pki.issue("x").keyFile, pollIntervalMs: 1000 } })).rejects.toThrow(
      /is not the key of the certificate/,
    );
  });

  it("knows loopback hosts", () => {
    expect(["127.0.0.1", "localhost", "::1", "[::1]"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "10.0.0.1", "::"].some(isLoopbackHost)).toBe(false);
  });
});
