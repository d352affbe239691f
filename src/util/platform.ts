/**
 * The library's version and a one-line description of the platform (uamqp's `__version__` and
 * `get_platform_info()`), for logs and bug reports.
 */

/** The version of this package (kept equal to package.json's by a test). */
export const VERSION = "0.1.0";

/**
 * The runtime in one line, e.g. `uamqp 0.1.0; node v20.20.2; openssl 3.0.15; linux x64`.
 * @example
 * ```ts
 * logger.info(getPlatformInfo());
 * ```
 */
export function getPlatformInfo(): string {
  return `uamqp ${VERSION}; node ${process.version}; openssl ${process.versions.openssl}; ${process.platform} ${process.arch}`;
}
