/**
 * A scripted frame-level AMQP peer for fault cases real brokers do not produce. It performs the
 * handshake (SASL ANONYMOUS, OPEN, BEGIN, ATTACH mirrored, FLOW with credit) and hands every
 * decoded frame to a responder that can answer with any frame or raw bytes.
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { Decoder } from "../../src/codec/decoder.js";
import type { CompositeType } from "../../src/codec/composite.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { FrameReader } from "../../src/frames/frame-reader.js";
import {
  beginFrame,
  endFrame,
  writeCompositeFrame,
  writeTransferPerformative,
} from "../../src/frames/frame-writer.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  PerformativeName,
  readPerformativeCode,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  Transfer,
  type AttachFields,
} from "../../src/frames/performatives.js";
import { protocolHeader, ProtocolId } from "../../src/frames/protocol-header.js";

const BY_CODE: Record<number, CompositeType<object>> = {
  0x10: Open,
  0x11: Begin,
  0x12: Attach,
  0x13: Flow,
  0x14: Transfer,
  0x15: Disposition,
  0x16: Detach,
  0x17: End,
  0x18: Close,
  0x41: SaslInit,
};

export interface PeerFrame {
  name: string;
  code: number;
  channel: number;
  fields: Record<string, unknown>;
  payload: Buffer;
}

export interface PeerOptions {
  /** Credit granted to each attached sender of the client. @defaultValue 100 */
  credit?: number;
  /** Answer ATTACH automatically (mirror). @defaultValue true */
  autoAttach?: boolean;
  /** Settle every received transfer with accepted. @defaultValue false */
  autoAccept?: boolean;
  /** Our OPEN fields. */
  open?: Partial<{ maxFrameSize: number; idleTimeOut: number; channelMax: number }>;
  /** Stay silent after the handshake (no heartbeats). */
}

export class PeerConnection {
  readonly socket: net.Socket;
  readonly frames: PeerFrame[] = [];
  readonly attaches: AttachFields[] = [];
  /** Empty frames (heartbeats) received. */
  heartbeats = 0;
  responder: ((f: PeerFrame, peer: PeerConnection) => void) | undefined;
  readonly #w = new ByteWriter();
  readonly #options: PeerOptions;
  #sasl = true;

  constructor(socket: net.Socket, options: PeerOptions) {
    this.socket = socket;
    this.#options = options;
    const reader = new FrameReader(
      {
        onProtocolHeader: (h) => {
          if (h.id === ProtocolId.Sasl) {
            this.raw(protocolHeader(ProtocolId.Sasl));
            this.frame(0, SaslMechanisms, { saslServerMechanisms: ["ANONYMOUS", "PLAIN"] }, 1);
          } else {
            this.#sasl = false;
            this.raw(protocolHeader(ProtocolId.Amqp));
          }
        },
        onFrame: (type, channel, buf, s, e) => {
          if (s === e) {
            this.heartbeats++;
            return;
          }
          const d = new Decoder(buf, s, e);
          const code = readPerformativeCode(d);
          const comp = BY_CODE[code];
          const fields = (comp ? comp.decodeBody(d) : {}) as Record<string, unknown>;
          const f: PeerFrame = {
            name: PerformativeName[code] ?? "?",
            code,
            channel,
            fields,
            payload: buf.subarray(d.pos, e),
          };
          this.frames.push(f);
          if (type === 1) {
            this.frame(0, SaslOutcome, { code: 0 }, 1);
            reader.expectProtocolHeader();
            return;
          }
          this.#auto(f);
          this.responder?.(f, this);
        },
      },
      1 << 24,
    );
    reader.expectProtocolHeader();
    socket.on("data", (chunk) => {
      try {
        reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => undefined);
  }

  #auto(f: PeerFrame): void {
    const o = this.#options;
    switch (f.name) {
      case "OPEN":
        this.frame(0, Open, { containerId: "scripted-peer", maxFrameSize: 1 << 20, ...o.open });
        break;
      case "BEGIN":
        this.frame(f.channel, Begin, {
          remoteChannel: f.channel,
          nextOutgoingId: 0,
          incomingWindow: 100000,
          outgoingWindow: 100000,
        });
        break;
      case "ATTACH": {
        const a = f.fields as unknown as AttachFields;
        this.attaches.push(a);
        if (o.autoAttach === false) break;
        this.frame(f.channel, Attach, { ...a, role: !a.role, initialDeliveryCount: 0 });
        if (!a.role) {
          this.frame(f.channel, Flow, {
            nextIncomingId: 0,
            incomingWindow: 100000,
            nextOutgoingId: 0,
            outgoingWindow: 100000,
            handle: a.handle,
            deliveryCount: 0,
            linkCredit: o.credit ?? 100,
          });
        }
        break;
      }
      case "TRANSFER":
        if (o.autoAccept && f.fields["settled"] !== true && f.fields["deliveryId"] !== undefined) {
          this.frame(f.channel, Disposition, {
            role: true,
            first: f.fields["deliveryId"] as number,
            settled: true,
            state: { type: "accepted" },
          });
        }
        break;
      case "CLOSE":
        this.frame(0, Close, {});
        break;
      default:
        break;
    }
  }

  frame<T extends object>(channel: number, comp: CompositeType<T>, value: T, type = 0): void {
    this.#w.reset();
    writeCompositeFrame(this.#w, type, channel, comp, value);
    this.socket.write(this.#w.toBuffer());
  }

  transfer(
    channel: number,
    head: Parameters<typeof writeTransferPerformative>[1],
    payload: Uint8Array,
  ): void {
    this.#w.reset();
    const at = beginFrame(this.#w, 0, channel);
    writeTransferPerformative(this.#w, head);
    this.#w.bytes(payload);
    endFrame(this.#w, at);
    this.socket.write(this.#w.toBuffer());
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  get usedSasl(): boolean {
    return this.#sasl;
  }

  /** Waits until a frame matching `pred` has arrived (bounded). */
  async waitFor(pred: (f: PeerFrame) => boolean, timeoutMs = 5000): Promise<PeerFrame> {
    const start = Date.now();
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() - start > timeoutMs) throw new Error("scripted peer: timed out waiting for a frame");
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

export interface ScriptedPeer {
  port: number;
  connections: PeerConnection[];
  /** The first connection (waits for it). */
  connection(): Promise<PeerConnection>;
  close(): Promise<void>;
}

export async function startScriptedPeer(
  options: PeerOptions = {},
  onConnection?: (c: PeerConnection) => void,
): Promise<ScriptedPeer> {
  const connections: PeerConnection[] = [];
  const server = net.createServer((socket) => {
    const c = new PeerConnection(socket, options);
    connections.push(c);
    onConnection?.(c);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    async connection() {
      const start = Date.now();
      while (connections.length === 0) {
        if (Date.now() - start > 5000) throw new Error("scripted peer: no connection");
        await new Promise((r) => setTimeout(r, 5));
      }
      return connections[0]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
