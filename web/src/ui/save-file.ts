/**
 * Where a downloaded file goes: straight to disk through the File System Access API where the browser has it
 * (Chromium), else an in-memory Blob handed to the browser's download manager.
 *
 * `openSaveTarget` must be called from the click handler itself, before any await, because the save dialog needs
 * the user's gesture.
 */
export interface SaveTarget {
  kind: "disk" | "blob";
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

interface SavePickerWindow {
  showSaveFilePicker?: (options: { suggestedName?: string }) => Promise<{
    createWritable(): Promise<{
      write(data: Uint8Array): Promise<void>;
      close(): Promise<void>;
      abort(): Promise<void>;
    }>;
  }>;
}

export async function openSaveTarget(name: string, type: string): Promise<SaveTarget> {
  const picker = (window as unknown as SavePickerWindow).showSaveFilePicker;
  if (picker) {
    try {
      const handle = await picker({ suggestedName: name });
      const writable = await handle.createWritable();
      return {
        kind: "disk",
        write: (chunk) => writable.write(chunk),
        close: () => writable.close(),
        abort: () => writable.abort(),
      };
    } catch (error) {
      // The user closed the dialog: nothing is saved.
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      // Not allowed here (e.g. inside a frame): fall back to a download.
    }
  }
  const parts: BlobPart[] = [];
  return {
    kind: "blob",
    write: async (chunk) => {
      parts.push(chunk as Uint8Array<ArrayBuffer>);
    },
    close: async () => {
      const url = URL.createObjectURL(new Blob(parts, { type: type || "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    abort: async () => {
      parts.length = 0;
    },
  };
}
