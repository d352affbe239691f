/**
 * The SASL layer of the broker seen over a raw socket, so that a test reads exactly what the broker
 * offers and answers, whatever a client library would choose.
 */
import { Socket } from "node:net";
import { decode } from "../../src/codec/index.js";
import { FrameType, SaslInit, writeCompositeFrame } from "../../src/frames/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

/**
 * Over a raw socket: the mechanisms the broker offers and, when `init` names a mechanism, the code
 * of the sasl-outcome answering a sasl-init for it (no initial response).
 */
export async function saslExchange(
  port: number,
  init?: string,
): Promise<{ offered: string[]; code?: number }> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no SASL answer within 5 s"));
    }, 5000);
    let buf = Buffer.alloc(0);
    let offered: string[] | undefined;
    const done = (r: { offered: string[]; code?: number }): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // 8-byte protocol header, then frames: size(4) doff(1) type(1) channel(2), body.
      for (;;) {
        if (buf.length < 12) return;
        const size = buf.readUInt32BE(8);
        if (buf.length < 8 + size) return;
        const fields = describedFields(decode(buf.subarray(8 + buf[12]! * 4, 8 + size)));
        buf = Buffer.concat([buf.subarray(0, 8), buf.subarray(8 + size)]);
        if (offered === undefined) {
          offered = symbols(fields[0]);
          if (init === undefined) return done({ offered });
          const w = new ByteWriter(64);
          writeCompositeFrame(w, FrameType.Sasl, 0, SaslInit, { mechanism: init });
          socket.write(w.toBuffer());
        } else {
          return done({ offered, code: Number(plain(fields[0])) });
        }
      }
    });
    socket.connect(port, "127.0.0.1", () => {
      socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]));
    });
  });
}

const plain = (v: unknown): unknown => (typeof v === "object" && v !== null && "value" in v ? v.value : v);
const describedFields = (d: unknown): unknown[] => (d as { value: unknown[] }).value;
/** sasl-server-mechanisms: a symbol or an array of symbols. */
const symbols = (v: unknown): string[] => {
  const inner = plain(v);
  return (Array.isArray(inner) ? inner : [v]).map((m) => String(plain(m)));
};
