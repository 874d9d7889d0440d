import { raceSignal } from "../../lib/signals.ts";

/** Web Lock name of the operations on one file, across this browser's tabs. */
export const FILE_LOCK_PREFIX = "tabula-file-op:";

/** The Web Locks this browser offers (navigator.locks), or none (Node, old browsers). */
export type LockManagerLike = Pick<LockManager, "request">;

/**
 * One operation (check, repair, upload) per file at a time: a queue per file in this tab, and a Web Lock per file
 * across the tabs of this browser, which share the files database. Emits `change` when the set of busy files does.
 */
export class FileLocks extends EventTarget {
  /** The tail of each file's queue. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #locks: LockManagerLike | undefined;
  #busy: ReadonlySet<string> = new Set();

  constructor(locks: LockManagerLike | undefined = globalThis.navigator?.locks) {
    super();
    this.#locks = locks;
  }

  /** Files with an operation under way, or waiting for one to end. */
  get busy(): ReadonlySet<string> {
    return this.#busy;
  }

  has(cid: string): boolean {
    return this.#tails.has(cid);
  }

  /**
   * Runs `run` once no other operation on the file is under way, in this tab or in another one; the file counts as
   * busy until it ends. Rejects with the signal's reason, without running, when `signal` aborts while it waits.
   */
  async run<T>(cid: string, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.#tails.get(cid) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    this.#tails.set(cid, tail);
    this.#changed();
    try {
      await raceSignal(before, signal);
      if (!this.#locks) return await run();
      return await this.#locks.request(`${FILE_LOCK_PREFIX}${cid}`, signal ? { signal } : {}, () => run());
    } finally {
      release();
      if (this.#tails.get(cid) === tail) this.#tails.delete(cid);
      this.#changed();
    }
  }

  #changed(): void {
    this.#busy = new Set(this.#tails.keys());
    this.dispatchEvent(new Event("change"));
  }
}
