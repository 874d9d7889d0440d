import { ProgressThrottle } from "../../../lib/progress.ts";

/** One host's part in a download, as the UI shows it. */
export interface HostFetch {
  host: string;
  shard?: number;
  state: "asking" | "streaming" | "spare" | "cancelled" | "done" | "failed" | "bad-piece" | "not-held";
  bytes: number;
  pieces: number;
  error?: string;
  /** The payment locked for a host that charges for its pieces: its scheme and the transaction that locked it. */
  payment?: { scheme: string; openTx: string };
}

export interface FetchProgress {
  hosts: HostFetch[];
  /** Verified piece bytes received from hosts. */
  bytes: number;
  startedAtMs: number;
}

/** A download's progress: the hosts shown, in the order they were asked, and the bytes received. */
export class DownloadProgress {
  readonly #views: HostFetch[] = [];
  #bytes = 0;
  readonly #startedAtMs = Date.now();
  readonly #onProgress: ((progress: FetchProgress) => void) | undefined;
  /** Reports at most every 100 ms; the last one comes at close at the latest. */
  readonly #throttle = new ProgressThrottle(() => this.#onProgress?.(this.current));

  constructor(onProgress?: (progress: FetchProgress) => void) {
    this.#onProgress = onProgress;
  }

  /** A copy of the progress so far. */
  get current(): FetchProgress {
    return { hosts: this.#views.map((v) => ({ ...v })), bytes: this.#bytes, startedAtMs: this.#startedAtMs };
  }

  /** Shows `view` after the others. */
  show(view: HostFetch): void {
    this.#views.push(view);
    this.changed();
  }

  /** Stops showing `view` (it is shown again, later in the list, by a stream that carries on from it). */
  hide(view: HostFetch): void {
    const index = this.#views.indexOf(view);
    if (index >= 0) this.#views.splice(index, 1);
  }

  /** Counts a verified piece from the host of `view`. */
  received(view: HostFetch, bytes: number): void {
    view.bytes += bytes;
    view.pieces += 1;
    this.#bytes += bytes;
    this.changed();
  }

  /** Counts bytes that belong to no view shown (a single piece fetched again). */
  counted(bytes: number): void {
    this.#bytes += bytes;
  }

  /** Reports soon (a view's state or counters changed). */
  changed(): void {
    if (this.#onProgress) this.#throttle.soon();
  }

  /** Reports what is pending now. */
  flush(): void {
    this.#throttle.flush();
  }
}
