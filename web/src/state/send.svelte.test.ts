import { describe, expect, it } from "vitest";
import { Receiver } from "../core/send/receive-files.ts";
import { Sender } from "../core/send/send-files.ts";
import { FakeTransfer, memoryStaging, memoryWriter, ticketText } from "../core/send/testing.ts";
import { randomBytes } from "../lib/bytes.ts";
import { SendState } from "./send.svelte.ts";

function sendState() {
  const transfer = new FakeTransfer();
  const sender = new Sender(transfer);
  const receiver = new Receiver({ transfer, staging: memoryStaging(), directTarget: async () => [] });
  return { state: new SendState(sender, receiver), sender, receiver, transfer };
}

describe("SendState", () => {
  it("mirrors the sender's offers, their progress and end, and its error", async () => {
    const { state, sender, transfer } = sendState();
    expect(state.outgoing).toEqual([]);
    await state.share([new File(["hello"], "a.txt")], { appUrl: "https://app.example/#/send" });
    expect(state.outgoing).toBe(sender.outgoing);
    expect(state.outgoing[0]?.link).toMatch(/^https:\/\/app\.example\/#\/receive\?t=/);

    const [made] = transfer.shares;
    made?.options.onProgress?.({ bytes: 5, totalBytes: 5, bytesPerSecond: 10 });
    made?.finish();
    await made?.share.done;
    await Promise.resolve();
    expect(state.outgoing[0]).toMatchObject({ done: true, progress: { bytes: 5 } });

    state.stop(state.outgoing[0]?.id as number);
    expect(made?.share.closed).toBe(true);
    expect(state.outgoing).toEqual([]);

    transfer.failShare = new Error("no transfer service");
    await state.share([new File(["x"], "x.txt")], { appUrl: "https://app.example/" });
    expect(state.error).toBe("no transfer service");
  });

  it("mirrors the transfer it receives and passes the user's decisions on", async () => {
    const { state, receiver, transfer } = sendState();
    const content = randomBytes(1_500);
    transfer.script = { files: [{ meta: { name: "a.bin", size: 1_500, type: "" }, content }] };
    expect(state.incoming).toBeUndefined();
    const receiving = state.receive((await ticketText()).text);
    expect(state.incoming?.state).toBe("connecting");
    await new Promise<void>((resolve) => {
      receiver.addEventListener("change", () => {
        if (receiver.incoming?.state === "offered") resolve();
      });
    });
    expect(state.incoming).toBe(receiver.incoming);
    expect(state.incoming?.files?.[0]?.name).toBe("a.bin");
    const writer = memoryWriter();
    state.accept([writer]);
    await receiving;
    expect(state.incoming).toMatchObject({ state: "done", toDisk: true, progress: { bytes: 1_500 } });
    expect(writer.bytes()).toEqual(content);
  });

  it("declines and cancels through the receiver", async () => {
    const { state, receiver, transfer } = sendState();
    transfer.script = { files: [{ meta: { name: "a.bin", size: 1, type: "" }, content: new Uint8Array(1) }] };
    const reached = (status: string) =>
      new Promise<void>((resolve) => {
        const check = () => receiver.incoming?.state === status && resolve();
        receiver.addEventListener("change", check);
      });
    let offered = reached("offered");
    let receiving = state.receive((await ticketText()).text);
    await offered;
    state.decline();
    await receiving;
    expect(state.incoming?.state).toBe("declined");

    transfer.script = { ...transfer.script, hang: true };
    offered = reached("offered");
    receiving = state.receive((await ticketText()).text);
    await offered;
    const under = reached("receiving");
    state.accept([memoryWriter()]);
    await under;
    expect(state.incoming?.state).toBe("receiving");
    state.cancel();
    await receiving;
    expect(state.incoming).toMatchObject({ state: "failed", error: { name: "Error" } });
    state.dispose();
  });
});
