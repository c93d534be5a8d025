/**
 * NATS authentication and TLS from file paths (docs/security.md).
 *
 * One method at a time: a credentials file (JWT + NKey seed, decentralized auth), an NKey seed, a
 * token, or a user with a password; plus TLS (a CA to trust the server, a client certificate for
 * mutual TLS). Secrets are read from their files at every (re)connect, so a rotated file is used at
 * the next reconnect without a restart; they are never logged.
 */
import { readFileSync } from "node:fs";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
} from "@nats-io/transport-node";

export interface BusAuthConfig {
  /** NATS_CREDS_FILE. */
  credsFile?: string;
  /** NATS_NKEY_SEED_FILE. */
  nkeySeedFile?: string;
  /** NATS_TOKEN_FILE. */
  tokenFile?: string;
  /** NATS_USER (with passwordFile). */
  user?: string;
  /** NATS_PASSWORD_FILE. */
  passwordFile?: string;
  /** NATS_TLS_CA_FILE: trust the server's certificate (turns TLS on). */
  tlsCaFile?: string;
  /** NATS_TLS_CERT_FILE + NATS_TLS_KEY_FILE: client certificate (mutual TLS). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

function reader(env: string, path: string): () => string {
  const read = () => {
    try {
      return readFileSync(path, "utf8").trim();
    } catch (err) {
      throw new Error(`${env} ${path} cannot be read`, { cause: err });
    }
  };
  // Fail at start, naming the variable, rather than at the first connect attempt.
  read();
  return read;
}

/** The connect options `auth` asks for (authenticator, tls). Throws naming the variable of a missing file. */
export function busAuthOptions(auth: BusAuthConfig | undefined): Partial<ConnectionOptions> {
  if (!auth) return {};
  const out: Partial<ConnectionOptions> = {};
  const encoder = new TextEncoder();
  let authenticator: Authenticator | undefined;
  if (auth.credsFile) {
    const read = reader("NATS_CREDS_FILE", auth.credsFile);
    authenticator = credsAuthenticator(() => encoder.encode(read()));
  } else if (auth.nkeySeedFile) {
    const read = reader("NATS_NKEY_SEED_FILE", auth.nkeySeedFile);
    authenticator = nkeyAuthenticator(() => encoder.encode(read()));
  } else if (auth.tokenFile) {
    authenticator = tokenAuthenticator(reader("NATS_TOKEN_FILE", auth.tokenFile));
  } else if (auth.user !== undefined) {
    if (!auth.passwordFile) throw new Error("NATS_USER needs NATS_PASSWORD_FILE");
    authenticator = usernamePasswordAuthenticator(auth.user, reader("NATS_PASSWORD_FILE", auth.passwordFile));
  }
  if (authenticator) out.authenticator = authenticator;
  if (auth.tlsCaFile || auth.tlsCertFile) {
    if ((auth.tlsCertFile === undefined) !== (auth.tlsKeyFile === undefined)) throw new Error("NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together");
    // nats.js reads these files itself; check them now so a wrong path names its variable.
    if (auth.tlsCaFile) reader("NATS_TLS_CA_FILE", auth.tlsCaFile);
    if (auth.tlsCertFile) reader("NATS_TLS_CERT_FILE", auth.tlsCertFile);
    if (auth.tlsKeyFile) reader("NATS_TLS_KEY_FILE", auth.tlsKeyFile);
    out.tls = {
      ...(auth.tlsCaFile ? { caFile: auth.tlsCaFile } : {}),
      ...(auth.tlsCertFile ? { certFile: auth.tlsCertFile, keyFile: auth.tlsKeyFile } : {}),
    };
  }
  return out;
}

/** The BusAuthConfig of a loaded TaskorchConfig's NATS_* settings (all optional). */
export function busAuthFromSettings(c: {
  natsCredsFile?: string | undefined;
  natsNkeySeedFile?: string | undefined;
  natsTokenFile?: string | undefined;
  natsUser?: string | undefined;
  natsPasswordFile?: string | undefined;
  natsTlsCaFile?: string | undefined;
  natsTlsCertFile?: string | undefined;
  natsTlsKeyFile?: string | undefined;
}): BusAuthConfig {
  return {
    credsFile: c.natsCredsFile,
    nkeySeedFile: c.natsNkeySeedFile,
    tokenFile: c.natsTokenFile,
    user: c.natsUser,
    passwordFile: c.natsPasswordFile,
    tlsCaFile: c.natsTlsCaFile,
    tlsCertFile: c.natsTlsCertFile,
    tlsKeyFile: c.natsTlsKeyFile,
  };
}
