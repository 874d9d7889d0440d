import type { PublicFileSink, PublicFiles, PublicTransfer } from "../core/public/public-files.ts";

export type { PublicFileSink, PublicTransfer };

/** Public files as the UI sees them: the files this tab added and the fetch under way. */
export class PublicFilesState {
  readonly #files: PublicFiles;
  #added = $state.raw<readonly PublicTransfer[]>([]);
  #fetching = $state.raw<PublicTransfer | undefined>();

  constructor(files: PublicFiles) {
    this.#files = files;
    const update = () => {
      this.#added = files.added;
      this.#fetching = files.fetching;
    };
    files.addEventListener("change", update);
    update();
  }

  /** Files this tab added, newest first, with their CIDs once imported. */
  get added(): readonly PublicTransfer[] {
    return this.#added;
  }
  get fetching(): PublicTransfer | undefined {
    return this.#fetching;
  }

  add(file: File, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#files.add(file, options);
  }

  /** Fetches `cidText` and writes it to `sink` (a file on disk or a download). */
  fetch(cidText: string, sink: PublicFileSink, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#files.fetch(cidText, sink, options);
  }

  cancel(): void {
    this.#files.cancel();
  }
}
