/**
 * What `bench/api.bench.ts` and its worker processes (`bench/api/worker.ts`, `bench/api/uamqp_worker.py`)
 * say to each other. A worker gets its {@link WorkerConfig} as JSON in its first argument, reads one
 * {@link Command} per line on stdin, and answers with lines `@@<json>` ({@link Reply}) on stdout
 * (other output lines are passed through as they are).
 *
 * Every measured run is `run` → `armed` → `done` → `end` → `ended`: CPU time is counted from `run` to
 * `end` (so work a library does after its last callback, such as flushing writes or settling, is
 * billed to it), wall-clock times are the worker's own `process.hrtime` readings (CLOCK_MONOTONIC, the
 * same clock in every process of the machine, so the parent may subtract one worker's time from
 * another's).
 */

/** Which of our APIs, or rhea, a connecting worker uses. */
export type ClientLib =
  /** `Connection` + `Session` + `MessageSender` / `MessageReceiver`, with `Message` objects. */
  | "low"
  /** `SendClient` / `ReceiveClient`, with `Message` objects. */
  | "client"
  /** rhea 3 (`container.connect`, `open_sender` / `open_receiver`). */
  | "rhea"
  /** Python uamqp (`uamqp_worker.py`): `SendClient` / `ReceiveClient`. */
  | "python"
  /**
   * The reference: our engine on the connecting side (`AmqpConnection`, `SenderLink.send` of a
   * message encoded once, `ReceiverLink` with auto credit), what the public API builds on.
   */
  | "engine";

/** The library of a listening worker: our engine's accepting side, or rhea's `container.listen`. */
export type PeerLib = "engine" | "rhea";

/** Where a connecting worker connects to. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** The node (queue) address. */
  readonly address: string;
  /** TLS: the CA certificate (PEM) to trust; plain TCP when absent. */
  readonly ca?: string | undefined;
}

export type WorkerConfig =
  /** Listens; counts the messages of every sending link it accepts, settles them `accepted`. */
  | { role: "sink"; lib: PeerLib; credit: number; maxFrameSize: number }
  /** Listens; sends `size`-byte messages on the latest receiving link it accepted. */
  | { role: "source"; lib: PeerLib; size: number; settled: boolean; window: number; maxFrameSize: number }
  /** Connects and sends `size`-byte messages to `endpoint`. */
  | {
      role: "send";
      lib: ClientLib;
      endpoint: Endpoint;
      size: number;
      settled: boolean;
      window: number;
      maxFrameSize: number;
      eld: boolean;
    }
  /** Connects; each run attaches a receiving link to `endpoint`, receives, then detaches it. */
  | {
      role: "recv";
      lib: ClientLib;
      endpoint: Endpoint;
      settled: boolean;
      credit: number;
      maxFrameSize: number;
      eld: boolean;
    }
  /** Listens; answers each request with a message to its reply-to, correlated by message-id. */
  | { role: "responder"; lib: PeerLib }
  /** Connects; sends requests one at a time and waits for each answer (and its own outcome). */
  | { role: "requester"; lib: "low" | "rhea"; endpoint: Endpoint; size: number }
  /** Raw TCP: echoes what it reads (the floor of any request/response over loopback). */
  | { role: "tcp-echo" }
  /** Raw TCP: writes `size` bytes and waits for them to come back, one at a time. */
  | { role: "tcp-ping"; endpoint: Endpoint; size: number }
  /** rhea's own server as a simple queue broker (store, forward to consumers with credit). */
  | { role: "rhea-broker"; credit: number };

export type Command =
  /** Start a run of `count` messages (0: a receiver counts until `end`); a warm-up is not profiled. */
  | { cmd: "run"; count: number; warmup?: boolean }
  /** How many messages the current run has received so far. */
  | { cmd: "progress" }
  /** Stop the clocks of the run (after `done`, or to end an open-ended receive). */
  | { cmd: "end" }
  /** Close everything and exit. */
  | { cmd: "stop" };

/** A worker's readings at the end of its part of a run. */
export interface Done {
  /** Messages handled (sent with an outcome, or received). */
  readonly count: number;
  /** When the worker got `run`, in ns of the monotonic clock. */
  readonly startNs: number;
  /** First message received (receivers), ns. */
  readonly firstNs?: number;
  /**
   * Receivers: the process's CPU time from the run's start to its first message, µs: connecting
   * (a `ReceiveClient` or Python uamqp's `ReceiveClient` opens its connection in each run, the
   * others attach a link on one opened before), attaching, granting credit. The tables count a
   * receiver's CPU per message from its first message, so that this, which is not per message and
   * differs between the contenders' set-ups, is not spread over the messages.
   */
  readonly setupCpuUs?: number;
  /** Last outcome / last message, ns. */
  readonly endNs: number;
  /** Request/response: the round-trip times, in µs. */
  readonly latenciesUs?: number[];
  /** Event-loop delay during the run, when the worker was configured with `eld`. */
  readonly eld?: EventLoopDelay;
}

/** `perf_hooks.monitorEventLoopDelay` readings (1 ms resolution), in ms. */
export interface EventLoopDelay {
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Samples taken (about one per ms of the run, fewer when the loop was blocked). */
  readonly samples: number;
  /** The longest the loop was held, in the process's CPU time (see `BusiestTurn` in worker.ts). */
  readonly busiestTurnCpuMs: number;
}

/** The worker's resources between `run` and `end`. */
export interface Ended {
  /** Process CPU time (user + system, every thread). */
  readonly cpuUs: number;
  /** The part of `cpuUs` spent in the kernel (system calls: socket reads and writes, mostly). */
  readonly systemUs?: number;
  /** Peak resident set size of the process over its whole life, KiB. */
  readonly maxRssKiB: number;
  /**
   * Resident set size when the worker was set up (connected, before its first run), KiB: the part of
   * the peak that is the runtime, tsx and the loaded modules rather than the messages.
   */
  readonly readyRssKiB: number;
  /** Garbage collections during the run and their total pause, when the runtime reports them. */
  readonly gcCount?: number;
  readonly gcMs?: number;
  /** Minor page faults during the run (fresh memory touched for the first time). */
  readonly minorFaults?: number;
  /** Read system calls during the run (Linux; every file and socket of the process). */
  readonly readCalls?: number;
  /** Write system calls during the run (Linux; every file and socket of the process). */
  readonly writeCalls?: number;
  /** Times the process waited (voluntary context switches: an idle event loop, mostly). */
  readonly waits?: number;
  /**
   * With `BENCH_COUNT_ASYNC=1`: async resources created during the run, by type (`PROMISE`,
   * `Timeout`, `TickObject`…), counted with an `async_hooks` init hook (which slows the run down).
   */
  readonly asyncResources?: Record<string, number>;
  /** Open-ended receives: messages received and the last arrival. */
  readonly count?: number;
  readonly endNs?: number;
}

export type Reply =
  | { ready: { port?: number } }
  | { armed: true }
  | { done: Done }
  | { progress: number }
  | { ended: Ended }
  | { stopped: true }
  | { error: string };

/** The prefix of a reply line. */
export const REPLY_PREFIX = "@@";
