/**
 * Stand-in for `@azure/identity` (not a dependency of this package) when the docs' code blocks are
 * type-checked: its credentials implement `@azure/core-auth`'s `TokenCredential`, which is what
 * docs/auth.md's adapter line relies on (test/auth/docs-and-example.test.ts runs that line).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

export declare class DefaultAzureCredential implements TokenCredential {
  constructor(options?: Record<string, unknown>);
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
}
