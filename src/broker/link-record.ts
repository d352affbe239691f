/**
 * A link the broker accepted: its address, and the clean-up to run once when it is gone (detached
 * by either side, or its connection died).
 */
import type { Link } from "../engine/link.js";
import type { BrokerErrorFields } from "./options.js";

export class LinkRecord {
  readonly link: Link;
  /** The queue name or node the link is attached to (undefined: anonymous relay). */
  readonly address: string | undefined;
  readonly #cleanups: (() => void)[] = [];
  #gone = false;

  constructor(link: Link, address: string | undefined) {
    this.link = link;
    this.address = address;
    link.onDetach = () => {
      this.gone();
    };
  }

  /** Still attached. */
  get active(): boolean {
    return !this.#gone;
  }

  /** Runs `fn` once the link is gone. */
  whenGone(fn: () => void): void {
    if (this.#gone) fn();
    else this.#cleanups.push(fn);
  }

  /** The link is gone: runs the clean-ups (once). */
  gone(): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const fn of this.#cleanups.splice(0)) fn();
  }

  /** Detaches the link (closing it), with an error if given, and cleans up. */
  close(error?: BrokerErrorFields): void {
    if (this.#gone) return;
    this.gone();
    void this.link.detach(error ? { closed: true, error } : { closed: true });
  }
}
