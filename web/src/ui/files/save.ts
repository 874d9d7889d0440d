/**
 * Where a download goes: straight to disk through the File System Access API where the browser has it, else a
 * Blob handed to the browser's download manager. Call `openSaveTarget` from the click handler before any await:
 * the save dialog needs the user's gesture.
 */
import type { SaveTarget } from "../../state/files.svelte.ts";

interface WritableFile {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}
type SavePicker = (options: { suggestedName?: string }) => Promise<{ createWritable(): Promise<WritableFile> }>;

export async function openSaveTarget(name: string, type: string): Promise<SaveTarget> {
  const picker = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  if (picker) {
    const handle = await picker({ suggestedName: name });
    const writable = await handle.createWritable();
    return { write: (c) => writable.write(c), close: () => writable.close(), abort: () => writable.abort() };
  }
  const parts: BlobPart[] = [];
  return {
    async write(chunk) {
      parts.push(chunk as Uint8Array<ArrayBuffer>);
    },
    async close() {
      const url = URL.createObjectURL(new Blob(parts, { type: type || "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    async abort() {
      parts.length = 0;
    },
  };
}
