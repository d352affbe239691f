/**
 * The one path from an Azure connection string to a client's address and options, used by the
 * `fromConnectionString()` constructors of `AMQPClient`, `SendClient` and `ReceiveClient`: the
 * string's endpoint and SAS credentials (`authFromConnectionString`, src/auth) give the URL and a
 * `SASTokenAuth`; the development emulator's string gives plain TCP.
 */
import { authFromConnectionString, type ConnectionStringAuthOptions } from "../auth/connection-string.js";
import {
  CONNECTION_STRING_TOKEN_OPTIONS,
  checkOptions,
  type AMQPClientOptions,
  type ConnectionStringOptions,
  type OptionNames,
} from "./client-options.js";

/** What a client constructor takes: the node's URL and the options with the auth. */
export interface ClientSetup<O> {
  readonly address: string;
  readonly options: O;
}

/**
 * The address and options of a client made from `connectionString`. `fallbackPath`: the node to
 * use when neither the string nor the options name an entity (`AMQPClient`: `$management`);
 * without one an entity is required.
 *
 * @throws {TypeError} for an unknown option, or no entity when one is required.
 * @throws {ConnectionStringError} for a malformed string (see `parseConnectionString`).
 * @throws {TokenExpired} when the string's `SharedAccessSignature` has expired.
 * @internal
 */
export function clientSetup<O extends AMQPClientOptions>(
  connectionString: string,
  options: Omit<O, "auth"> & ConnectionStringOptions,
  names: OptionNames<Omit<O, "auth"> & ConnectionStringOptions>,
  owner: string,
  fallbackPath?: string,
): ClientSetup<O> {
  checkOptions(options, names, `${owner}.fromConnectionString()`);
  const { entityPath, tokenAuth, ...clientOptions } = options;
  checkOptions(
    tokenAuth,
    CONNECTION_STRING_TOKEN_OPTIONS,
    `the tokenAuth option of ${owner}.fromConnectionString()`,
  );
  const authOptions: ConnectionStringAuthOptions = {
    ...clientOptions.transport,
    ...tokenAuth,
    ...(entityPath !== undefined ? { entityPath } : {}),
  };
  const info = authFromConnectionString(connectionString, authOptions);
  let address = info.address;
  if (address === undefined) {
    if (fallbackPath === undefined) {
      throw new TypeError(
        `${owner}.fromConnectionString(): name the entity, with EntityPath in the connection string or the entityPath option`,
      );
    }
    const host = info.host.includes(":") ? `[${info.host}]` : info.host;
    address = `${info.scheme}://${host}:${info.port}/${fallbackPath}`;
  }
  return { address, options: { ...clientOptions, auth: info.auth } as unknown as O };
}
