import { describe, expect, it } from "vitest";
import { loadConfig, redactUrlSecrets } from "./load-config.js";

describe("security settings", () => {
  it("names the variables that go together, and never echoes a URL password", () => {
    const bad = (env: Record<string, string>) => () => loadConfig(env);
    expect(bad({ GRPC_TLS_CERT_FILE: "/c" })).toThrow(/GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together/);
    expect(bad({ GRPC_TLS_CLIENT_CA_FILE: "/ca" })).toThrow(/GRPC_TLS_CLIENT_CA_FILE \(mutual TLS\) needs GRPC_TLS_CERT_FILE/);
    expect(bad({ NATS_USER: "u" })).toThrow(/NATS_USER and NATS_PASSWORD_FILE go together/);
    expect(bad({ NATS_TOKEN_FILE: "/t", NATS_CREDS_FILE: "/c" })).toThrow(/choose one NATS authentication method/);
    expect(bad({ MAX_TYPE_LENGTH: "500" })).toThrow(/MAX_TYPE_LENGTH/);
    let message = "";
    try {
      loadConfig({ DATABASE_URL: "mysql://admin:hunter2@db/x" });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/DATABASE_URL="mysql:\/\/admin:\*\*\*@db\/x" is invalid/);
    expect(message).not.toContain("hunter2");
    expect(redactUrlSecrets("nats://a:b@h:1,tls://c:d@h:2")).toBe("nats://a:***@h:1,tls://c:***@h:2");
  });

  it("accepts a consistent secure configuration", () => {
    const c = loadConfig({ GRPC_TLS_CERT_FILE: "/c", GRPC_TLS_KEY_FILE: "/k", GRPC_TLS_CLIENT_CA_FILE: "/ca", AUTH_TOKENS_FILE: "/t", NATS_NKEY_SEED_FILE: "/s", MAX_BATCH_SIZE: "100" });
    expect(c.grpcTlsClientCaFile).toBe("/ca");
    expect(c.maxBatchSize).toBe(100);
  });
});
