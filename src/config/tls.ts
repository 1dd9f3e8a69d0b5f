// The TLS settings the distributor and the analyzer share (TLS_CERT_FILE, TLS_KEY_FILE,
// TLS_CLIENT_CA_FILE), described once like every setting, and the rule that ties them together.

import { ConfigError, pemFile, type Settings } from "./env.ts";

export const tlsSettings = {
  tlsCertFile: {
    env: "TLS_CERT_FILE",
    schema: pemFile(),
    doc: "serve HTTPS with this certificate (PEM, the server's certificate first, then its chain); needs `TLS_KEY_FILE`; re-read on SIGHUP and when the file changes (see [TLS](security.md#tls))",
  },
  tlsKeyFile: {
    env: "TLS_KEY_FILE",
    schema: pemFile(),
    doc: "the private key of `TLS_CERT_FILE` (PEM, unencrypted); needs `TLS_CERT_FILE`",
  },
  tlsClientCaFile: {
    env: "TLS_CLIENT_CA_FILE",
    schema: pemFile(),
    doc: "with TLS: require client certificates signed by these CAs (PEM bundle); a client without one is refused before its request is read (mTLS)",
  },
} satisfies Settings;

/** The TLS files, or null for plain HTTP; a half-given pair or a client CA without TLS is a ConfigError. */
export function tlsFiles(values: {
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  tlsClientCaFile: string | undefined;
}): { certFile: string; keyFile: string; clientCaFile?: string } | null {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile, tlsClientCaFile: clientCaFile } = values;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] = certFile === undefined ? ["TLS_KEY_FILE", "TLS_CERT_FILE"] : ["TLS_CERT_FILE", "TLS_KEY_FILE"];
    throw new ConfigError(`${set} is set but ${unset} is not: TLS needs both the certificate and its key`);
  }
  if (certFile === undefined || keyFile === undefined) {
    if (clientCaFile !== undefined) {
      throw new ConfigError(
        "TLS_CLIENT_CA_FILE is set without TLS_CERT_FILE and TLS_KEY_FILE: client certificates need a TLS server",
      );
    }
    return null;
  }
  return clientCaFile === undefined ? { certFile, keyFile } : { certFile, keyFile, clientCaFile };
}
