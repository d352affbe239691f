/**
 * A client process of `uamqp demo` (src/cli/demo.ts starts it): `demo-worker producer|consumer URL`.
 * It connects, says `ready`, then runs the phases its parent asks for over the IPC channel and
 * answers each with its report; it closes on `stop`, and exits when its parent goes.
 */
import {
  DemoConsumer,
  DemoProducer,
  type ConsumerReport,
  type ProducerReport,
  type WorkerReply,
  type WorkerRequest,
} from "./demo-roles.js";

const [role, url] = process.argv.slice(2);
if ((role !== "producer" && role !== "consumer") || url === undefined || process.send === undefined) {
  process.stderr.write(
    "demo-worker: started by `uamqp demo` only (producer|consumer URL, with an IPC channel)\n",
  );
  process.exit(2);
}
const client = role === "producer" ? new DemoProducer(url) : new DemoConsumer(url);
let stopping = false;

function reply(r: WorkerReply): void {
  process.send?.(r);
}

function fail(e: unknown): void {
  reply({ type: "error", message: e instanceof Error ? e.message : String(e) });
}

process.on("disconnect", () => {
  // The parent is gone (or let go of us after `stop`).
  process.exit(stopping ? 0 : 1);
});

process.on("message", (request: WorkerRequest) => {
  if (request.type === "stop") {
    stopping = true;
    client.close().then(
      () => process.disconnect(),
      () => process.disconnect(),
    );
    return;
  }
  const progress = (n: number): void => {
    reply({ type: "progress", n });
  };
  const running: Promise<ProducerReport | ConsumerReport> = client.run(request.phase, progress);
  running.then((report) => {
    reply({ type: "done", report });
  }, fail);
});

client.open().then(() => {
  reply({ type: "ready" });
}, fail);
