/**
 * Layer rules of docs/architecture.md: lower layers never import higher ones.
 * util → errors → codec → (frames | message) → transport → sasl → engine → (management, auth, policy) → client
 * broker may use everything below client; cli may use everything; nothing imports cli.
 */
const layer = (name, allowed) => ({
  name: `layer-${name}`,
  severity: "error",
  comment: `src/${name} may only import: ${allowed.join(", ") || "nothing in src"}`,
  from: { path: `^src/${name}/` },
  to: {
    path: "^src/",
    pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`)],
  },
});

module.exports = {
  forbidden: [
    layer("util", []),
    layer("errors", ["util"]),
    layer("codec", ["util", "errors"]),
    layer("frames", ["codec", "util", "errors"]),
    layer("message", ["codec", "util", "errors"]),
    layer("address", ["codec", "util", "errors"]),
    layer("transport", ["util", "errors"]),
    layer("sasl", ["frames", "codec", "transport", "util", "errors"]),
    layer("engine", ["frames", "codec", "sasl", "transport", "util", "errors"]),
    layer("policy", ["util", "errors"]),
    layer("management", ["engine", "message", "frames", "codec", "util", "errors", "transport", "sasl"]),
    layer("auth", [
      "management",
      "engine",
      "message",
      "frames",
      "codec",
      "util",
      "errors",
      "transport",
      "sasl",
    ]),
    layer("broker", [
      "address",
      "engine",
      "frames",
      "codec",
      "message",
      "sasl",
      "transport",
      "util",
      "errors",
      "management",
      "auth",
      "policy",
    ]),
    {
      name: "no-cli-imports",
      severity: "error",
      from: { pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js"],
    },
  },
};
