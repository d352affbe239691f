/**
 * Token authentication for Azure (docs/auth.md): a SAS auth from a connection string, or from a
 * key, and what the connection's CBS step uses from it.
 *
 *   npx tsx examples/token-auth.ts "<connection string>" [entity]
 *   npx tsx examples/token-auth.ts        # the Service Bus emulator's string, entity "queue.1"
 *
 * This example creates the auths and prints their non-secret fields; a client given `info.auth` as
 * its `auth` option (or made with `SendClient.fromConnectionString`) puts the token on `$cbs` and
 * refreshes it: examples/management.ts runs that against the embedded broker.
 * Nothing secret is printed: `console.log(auth)` shows `<redacted>` where the token is.
 */
import { authFromConnectionString, JWTTokenAuth, SASTokenAuth } from "uamqp";

const connectionString =
  process.argv[2] ??
  "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true";
const entity = process.argv[3] ?? "queue.1";

// 1. From a connection string: host, port, scheme, the address for a client, and a SAS auth.
const info = authFromConnectionString(connectionString, { entityPath: entity, expiry: 20 * 60_000 });
console.log(
  `address: ${info.address ?? "(no entity)"} (${info.useDevelopmentEmulator ? "emulator, plain TCP" : "TLS"})`,
);
console.log(info.auth); // the settings, the token redacted

// 2. What the CBS step uses: audience, token type, expiry, when to refresh.
const { expiresOnTimestamp } = await info.auth.getToken();
console.log(`audience:    ${info.auth.audience}`);
console.log(`token type:  ${info.auth.tokenType}`);
console.log(`expires at:  ${new Date(expiresOnTimestamp).toISOString()}`);
console.log(`refresh at:  ${new Date(info.auth.refreshAtMs() ?? expiresOnTimestamp).toISOString()}`);
console.log(`put-token:   timeout ${info.auth.timeout} ms, ${info.auth.retryPolicy.retries} retries`);
console.log(
  `SASL:        ${info.auth
    .saslMechanisms()
    .map((m) => m.name)
    .join(", ")}`,
);

// 3. The same from a key, and a JWT auth whose callback would be an @azure/identity credential.
const fromKey = SASTokenAuth.fromSharedAccessKey(
  `sb://${info.host}/${entity}`,
  "RootManageSharedAccessKey",
  "SAS_KEY_VALUE",
);
console.log(`from a key:  ${String(fromKey)}, expires ${new Date(fromKey.expiresAtMs ?? 0).toISOString()}`);
const jwt = new JWTTokenAuth(`sb://${info.host}/${entity}`, `sb://${info.host}/${entity}`, () => ({
  token: "a JWT from your identity provider",
  expiresOnTimestamp: Date.now() + 3_600_000,
}));
await jwt.getToken();
console.log(`JWT:         ${JSON.stringify(jwt)}`);
