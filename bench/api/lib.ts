/**
 * The library under test, loaded from the sources (under tsx) or from the build (`dist/`, what
 * users run): `BENCH_LIB=dist` selects the build. Types always come from the sources.
 *
 * Why it matters: tsx compiles with esbuild's `keepNames`, which wraps every function and class
 * expression in a `__name(fn, "name")` call (an `Object.defineProperty`), so each closure the library
 * creates per message costs more under tsx than in the build. rhea, from node_modules, never pays it.
 */
import { pathToFileURL } from "node:url";
import type * as PublicApiModule from "../../src/index.js";
import type * as EngineConnectionModule from "../../src/engine/connection.js";
import type * as EngineLinkModule from "../../src/engine/link.js";
import type * as TcpModule from "../../src/transport/tcp.js";
import type * as BrokerModule from "../../src/broker/index.js";
import type * as MemoryTransportModule from "../../src/transport/memory.js";

/** `dist` or `src`; or the absolute path of another build (a baseline for A/B runs). */
const BENCH_LIB = process.env["BENCH_LIB"];
export const LIB_ROOT =
  BENCH_LIB === "dist" ? "dist" : BENCH_LIB?.startsWith("/") === true ? BENCH_LIB : "src";

async function load<T>(path: string): Promise<T> {
  // A computed specifier: the build may not exist when the sources are type-checked.
  const url = LIB_ROOT.startsWith("/")
    ? pathToFileURL(`${LIB_ROOT}/${path}`).href
    : new URL(`../../${LIB_ROOT}/${path}`, import.meta.url).href;
  return (await import(url)) as T;
}

export const api = await load<typeof PublicApiModule>("index.js");
export const engineConnection = await load<typeof EngineConnectionModule>("engine/connection.js");
export const engineLink = await load<typeof EngineLinkModule>("engine/link.js");
export const tcp = await load<typeof TcpModule>("transport/tcp.js");
export const broker = await load<typeof BrokerModule>("broker/index.js");
export const memory = await load<typeof MemoryTransportModule>("transport/memory.js");
