/**
 * The library under test, loaded from the sources (under tsx) or from the build (`dist/`, what
 * users run): `BENCH_LIB=dist` selects the build. Types always come from the sources.
 *
 * Why it matters: tsx compiles with esbuild's `keepNames`, which wraps every function and class
 * expression in a `__name(fn, "name")` call (an `Object.defineProperty`), so each closure the library
 * creates per message costs more under tsx than in the build. rhea, from node_modules, never pays it.
 */
import type * as PublicApiModule from "../../src/index.js";
import type * as EngineConnectionModule from "../../src/engine/connection.js";
import type * as EngineLinkModule from "../../src/engine/link.js";
import type * as TcpModule from "../../src/transport/tcp.js";

/** `dist` or `src`. */
export const LIB_ROOT = process.env["BENCH_LIB"] === "dist" ? "dist" : "src";

async function load<T>(path: string): Promise<T> {
  // A computed specifier: the build may not exist when the sources are type-checked.
  const url = new URL(`../../${LIB_ROOT}/${path}`, import.meta.url).href;
  return (await import(url)) as T;
}

export const api = await load<typeof PublicApiModule>("index.js");
export const engineConnection = await load<typeof EngineConnectionModule>("engine/connection.js");
export const engineLink = await load<typeof EngineLinkModule>("engine/link.js");
export const tcp = await load<typeof TcpModule>("transport/tcp.js");
