/**
 * The package as a user gets it: `npm pack` of this checkout (its `prepack` builds), the tarball
 * installed into a fresh consumer project, and there:
 *  - an ES module and a CommonJS script import `uamqp` and `uamqp/broker` and move a message;
 *  - a strict TypeScript program (`skipLibCheck: false`) type-checks under `nodenext` and `bundler`,
 *    and a CommonJS TypeScript project compiles and runs.
 * The pack runs in a copy of the sources, so the checkout's own `dist/` is never touched.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const root = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
};
const tsc = join(root, "node_modules/typescript/bin/tsc");

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, npm_config_fund: "false" },
  });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** One round trip through the embedded broker, as plain JavaScript (the body of both scripts). */
const roundTrip = `
const broker = await Broker.start({ port: 0 });
try {
  const url = broker.url + "/consumer-check";
  await sendMessage(url, new Message({ body: "from the tarball" }));
  const got = await receiveMessage(url, { timeout: 5000 });
  console.log("received:", got?.toString());
} finally {
  await broker.close();
}
`;

const strictProgram = `
import { Message, SendClient, ReceiveClient, SASLPlain, AMQPError } from "uamqp";
import { Broker, type BrokerOptions } from "uamqp/broker";

const options: BrokerOptions = { port: 0 };
export async function main(): Promise<string | undefined> {
  const broker = await Broker.start(options);
  const auth = new SASLPlain("127.0.0.1", "user", "password");
  const sender = new SendClient(broker.url + "/q", { auth });
  await sender.sendMessage(new Message({ body: "typed" }));
  await sender.close();
  const receiver = new ReceiveClient(broker.url + "/q", { timeout: 1000 });
  for await (const message of receiver) {
    const text: string = message.toString();
    void text;
    break;
  }
  await receiver.close();
  await broker.close();
  const e: unknown = undefined;
  return e instanceof AMQPError ? e.code : undefined;
}
`;

describe("the packed package in a fresh consumer", { timeout: 600_000 }, () => {
  let work: string;
  let consumer: string;
  let files: string[];
  let tarball: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "uamqp-pack-"));
    // A copy of what the build needs, with the checkout's node_modules linked in.
    const src = join(work, "src-copy");
    mkdirSync(src);
    for (const f of [
      "src",
      "package.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
    ]) {
      cpSync(join(root, f), join(src, f), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(src, "node_modules"), "dir");
    const packed = ok(run("npm", ["pack", "--json", "--pack-destination", work], src), "npm pack");
    const info = JSON.parse(packed.slice(packed.indexOf("["))) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = info[0]!.files.map((f) => f.path);
    tarball = join(work, info[0]!.filename);

    consumer = join(work, "consumer");
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    ok(
      run(
        "npm",
        ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"],
        consumer,
      ),
      "npm install of the tarball",
    );
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("holds dist with types, README, LICENSE and CHANGELOG, and nothing from the source tree", () => {
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/broker/index.js",
      "dist/cli/bin.js",
    ]) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    const strays = files.filter(
      (f) => !/^(dist\/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(f),
    );
    assert.deepEqual(strays, []);
    assert.ok(
      !files.some((f) => f.endsWith(".d.ts.map")),
      "no declaration maps pointing at unshipped sources",
    );
  });

  it("publint and @arethetypeswrong/cli find no problem", () => {
    const bin = (name: string): string => join(root, "node_modules/.bin", name);
    const lint = ok(run(bin("publint"), [join(consumer, "node_modules/uamqp")], consumer), "publint");
    assert.match(lint, /All good/);
    // require() of an ES module is how CommonJS users load this package (Node 20.19+, and
    // TypeScript's nodenext since 5.8, checked below); attw's rule predates that.
    const types = ok(
      run(
        bin("attw"),
        [tarball, "--ignore-rules", "cjs-resolves-to-esm", "--no-emoji", "--no-color"],
        consumer,
      ),
      "attw",
    );
    assert.match(types, /No problems found/);
  });

  it("its source maps carry their sources", () => {
    const mapFile = join(consumer, "node_modules/uamqp/dist/index.js.map");
    const map = JSON.parse(readFileSync(mapFile, "utf8")) as { sources: string[]; sourcesContent?: string[] };
    assert.equal(map.sourcesContent?.length, map.sources.length);
    assert.ok(map.sourcesContent.every((s) => s.length > 0));
  });

  it("runs as an ES module (import)", () => {
    const file = join(consumer, "esm.mjs");
    writeFileSync(
      file,
      `import { Message, sendMessage, receiveMessage } from "uamqp";\nimport { Broker } from "uamqp/broker";\n${roundTrip}`,
    );
    assert.match(
      ok(run(process.execPath, [file], consumer, 60_000), "esm.mjs"),
      /received: from the tarball/,
    );
  });

  it("runs from CommonJS (require)", () => {
    const file = join(consumer, "cjs.cjs");
    writeFileSync(
      file,
      `const { Message, sendMessage, receiveMessage, VERSION } = require("uamqp");\nconst { Broker } = require("uamqp/broker");\n` +
        `(async () => {\n${roundTrip}\nconsole.log("version:", VERSION);\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
    );
    const out = ok(run(process.execPath, [file], consumer, 60_000), "cjs.cjs");
    assert.match(out, /received: from the tarball/);
    assert.match(out, new RegExp(`version: ${pkg.version.replace(/\./g, "\\.")}`));
  });

  for (const resolution of ["nodenext", "bundler"] as const) {
    it(`type-checks a strict program under moduleResolution ${resolution} (skipLibCheck: false)`, () => {
      const dir = join(consumer, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "main.ts"), strictProgram);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: false,
            noEmit: true,
            target: "ES2022",
            lib: ["ES2023", "ESNext.Disposable"],
            module: resolution === "nodenext" ? "nodenext" : "esnext",
            moduleResolution: resolution,
            types: ["node"],
            typeRoots: [join(root, "node_modules/@types")],
          },
          include: ["main.ts"],
        }),
      );
      ok(run(process.execPath, [tsc, "-p", dir], dir), `tsc (${resolution})`);
    });
  }

  it("compiles and runs in a CommonJS TypeScript project", () => {
    const dir = join(consumer, "ts-cjs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "cjs-consumer", private: true, type: "commonjs" }),
    );
    writeFileSync(
      join(dir, "main.ts"),
      `import { Message, sendMessage, receiveMessage } from "uamqp";\nimport { Broker } from "uamqp/broker";\n` +
        `async function main(): Promise<void> {\n${roundTrip}\n}\nmain().catch((e: unknown) => { console.error(e); process.exit(1); });\n`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          target: "ES2022",
          lib: ["ES2023", "ESNext.Disposable"],
          module: "nodenext",
          moduleResolution: "nodenext",
          outDir: "out",
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        include: ["main.ts"],
      }),
    );
    ok(run(process.execPath, [tsc, "-p", dir], dir), "tsc (commonjs)");
    assert.ok(readdirSync(join(dir, "out")).includes("main.js"));
    assert.match(readFileSync(join(dir, "out/main.js"), "utf8"), /require\("uamqp"\)/);
    assert.match(
      ok(run(process.execPath, [join(dir, "out/main.js")], dir, 60_000), "ts-cjs"),
      /received: from the tarball/,
    );
  });

  it("engines states the real minimum: require() of this ES module needs Node 20.19", () => {
    const min = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
    assert.ok(min, `engines.node is a plain minimum: ${pkg.engines.node}`);
    const [maj, minor] = [Number(min[1]), Number(min[2])];
    // The library uses AbortSignal.any (20.3), Symbol.asyncDispose (20.4) and is loaded with
    // require() by CommonJS users, which Node 20 does without a flag from 20.19 on.
    assert.ok(maj > 20 || (maj === 20 && minor >= 19), `engines.node ${pkg.engines.node} is at least 20.19`);
    assert.ok(maj === 20 && minor === 19, `engines.node ${pkg.engines.node} asks no more than 20.19`);
    const [runMaj, runMin] = process.versions.node.split(".").map(Number) as [number, number];
    assert.ok(runMaj > maj || (runMaj === maj && runMin >= minor), "this Node satisfies engines");
  });
});
