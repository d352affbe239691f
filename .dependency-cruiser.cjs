/**
 * Layer rules of docs/architecture.md: lower layers never import higher ones.
 * util → errors → codec → (frames | message | address) → transport → sasl → engine → (policy, auth)
 * → management → client; broker may use everything below client; cli may use everything; nothing
 * imports cli. Type-only imports count (`tsPreCompilationDeps`): a type is a dependency like any other.
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

/**
 * The only import cycles allowed: the natural parent/child edges (docs/architecture.md), a parent
 * making its children and a child naming its parent. Each pair is [a file, the only files it may
 * import within a cycle]; any other file in a cycle, or another edge of these files in a cycle,
 * fails the lint. Token authentication (CBS) and management requests are a layer of their own
 * (src/management), which knows a session and a connection only by the interfaces it declares.
 */
const naturalCycles = [
  // The engine's connection owns its sessions; a session names its connection.
  ["^src/engine/connection\\.ts$", "^src/engine/session\\.ts$"],
  ["^src/engine/session\\.ts$", "^src/engine/connection\\.ts$"],
  // The client's Connection makes its sessions, a Session its links; each child names its parent.
  ["^src/client/connection\\.ts$", "^src/client/session\\.ts$"],
  ["^src/client/session\\.ts$", "^src/client/(connection|message-sender|message-receiver)\\.ts$"],
  ["^src/client/message-(sender|receiver)\\.ts$", "^src/client/session\\.ts$"],
];

const noCircular = [
  {
    name: "no-circular",
    severity: "error",
    comment: "an import cycle beyond the natural parent/child edges (docs/architecture.md)",
    from: { pathNot: naturalCycles.map(([from]) => from) },
    to: { circular: true },
  },
  ...naturalCycles.map(([from, to]) => ({
    name: "no-circular",
    severity: "error",
    comment: "an import cycle beyond the natural parent/child edges (docs/architecture.md)",
    from: { path: from },
    to: { circular: true, pathNot: to },
  })),
];

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
    layer("auth", [
      "address",
      "engine",
      "message",
      "frames",
      "codec",
      "util",
      "errors",
      "transport",
      "sasl",
      "policy",
    ]),
    layer("management", [
      "auth",
      "policy",
      "address",
      "engine",
      "message",
      "frames",
      "codec",
      "util",
      "errors",
      "transport",
      "sasl",
    ]),
    layer("client", [
      "address",
      "auth",
      "engine",
      "frames",
      "codec",
      "message",
      "sasl",
      "transport",
      "util",
      "errors",
      "management",
      "policy",
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
    ...noCircular,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js"],
    },
  },
};
