import { afterEach, describe, expect, it, vi } from "vitest";
import { PROGRESS_INTERVAL_MS } from "../../lib/progress.ts";
import { RECEIVE_ROUTE, receiveLink, Sender } from "./send-files.ts";
import { FakeTransfer } from "./testing.ts";

const APP_URL = "https://gw.example/ipfs/bafyapp/#/send";
const files = [new File(["hello"], "a.txt", { type: "text/plain" }), new File(["world!"], "b.txt")];

afterEach(() => {
  vi.useRealTimers();
});

describe("receiveLink", () => {
  it("puts the receive route and the ticket in the fragment of the app's address", () => {
    expect(receiveLink(APP_URL, "TICKET")).toBe(`https://gw.example/ipfs/bafyapp/#${RECEIVE_ROUTE}?t=TICKET`);
  });
});

describe("Sender", () => {
  it("offers files with their link and QR code, then shows the receiver's progress and the end", async () => {
    const transfer = new FakeTransfer();
    const sender = new Sender(transfer);
    const changes = vi.fn();
    sender.addEventListener("change", changes);
    await sender.share(files, { appUrl: APP_URL });
    const [made] = transfer.shares;
    expect(made?.sources.map((s) => [s.name, s.size])).toEqual([
      ["a.txt", 5],
      ["b.txt", 6],
    ]);
    const [out] = sender.outgoing;
    expect(out).toMatchObject({
      done: false,
      declined: false,
      files: [{ name: "a.txt", size: 5, type: "text/plain" }, {}],
    });
    expect(out?.link).toBe(receiveLink(APP_URL, made?.share.link as string));
    expect(out?.qrSvg).toMatch(/^<svg/);
    expect(changes).toHaveBeenCalled();

    made?.options.onProgress?.({ bytes: 5, totalBytes: 11, bytesPerSecond: 100 });
    expect(sender.outgoing[0]?.progress?.bytes).toBe(5);
    made?.options.onProgress?.({ bytes: 11, totalBytes: 11, bytesPerSecond: 100 });
    made?.finish();
    await made?.share.done;
    await Promise.resolve();
    expect(sender.outgoing[0]).toMatchObject({ done: true, progress: { bytes: 11, totalBytes: 11 } });
  });

  it("reports a burst of progress at most once per interval, never losing the last", async () => {
    vi.useFakeTimers();
    const transfer = new FakeTransfer();
    const sender = new Sender(transfer);
    await sender.share(files, { appUrl: APP_URL });
    const changes = vi.fn();
    sender.addEventListener("change", changes);
    const onProgress = transfer.shares[0]?.options.onProgress as (p: {
      bytes: number;
      totalBytes: number;
      bytesPerSecond: number;
    }) => void;
    for (let bytes = 1; bytes <= 11; bytes++) onProgress({ bytes, totalBytes: 11, bytesPerSecond: 1 });
    expect(changes).toHaveBeenCalledTimes(1);
    expect(sender.outgoing[0]?.progress?.bytes).toBe(1);
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(changes).toHaveBeenCalledTimes(2);
    expect(sender.outgoing[0]?.progress?.bytes).toBe(11);
  });

  it("shows a decline, and stops an offer by stop() or by the caller's signal", async () => {
    const transfer = new FakeTransfer();
    const sender = new Sender(transfer);
    const controller = new AbortController();
    await sender.share(files, { appUrl: APP_URL });
    await sender.share(files.slice(0, 1), { appUrl: APP_URL, signal: controller.signal });
    const [first, second] = transfer.shares;
    first?.options.onDeclined?.();
    expect(sender.outgoing[0]?.declined).toBe(true);

    sender.stop(sender.outgoing[0]?.id as number);
    expect(first?.share.closed).toBe(true);
    expect(sender.outgoing).toHaveLength(1);
    controller.abort();
    expect(second?.share.closed).toBe(true);
    expect(sender.outgoing).toEqual([]);
  });

  it("says why an offer could not be made, and clears it with the next one", async () => {
    const transfer = new FakeTransfer();
    const sender = new Sender(transfer);
    transfer.failShare = new Error("the transfer service is not running");
    await sender.share(files, { appUrl: APP_URL });
    expect(sender.error).toBe("the transfer service is not running");
    expect(sender.outgoing).toEqual([]);
    transfer.failShare = undefined;
    await sender.share(files, { appUrl: APP_URL });
    expect(sender.error).toBeUndefined();
    expect(sender.outgoing).toHaveLength(1);
  });

  it("makes no offer when the caller's signal has aborted", async () => {
    const transfer = new FakeTransfer();
    const sender = new Sender(transfer);
    await sender.share(files, { appUrl: APP_URL, signal: AbortSignal.abort() });
    expect(transfer.shares).toEqual([]);
    expect(sender.outgoing).toEqual([]);
    expect(sender.error).toBeUndefined();
  });
});
