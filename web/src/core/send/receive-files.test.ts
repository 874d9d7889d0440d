import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { afterEach, describe, expect, it, vi } from "vitest";
import { randomBytes } from "../../lib/bytes.ts";
import { PROGRESS_INTERVAL_MS } from "../../lib/progress.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import {
  encodeTicket,
  type ReceiveOptions,
  SECRET_BYTES,
  TRANSFER_ID_BYTES,
} from "../../p2p/protocols/transfer/index.ts";
import type { TransferPayments } from "../payments/transfer-payments.ts";
import { type IncomingTransfer, Receiver } from "./receive-files.ts";
import { FakeTransfer, memoryStaging, memoryWriter, ticketText } from "./testing.ts";

const contentA = randomBytes(2_500);
const contentB = randomBytes(700);
const script = {
  files: [
    { meta: { name: "a.bin", size: contentA.byteLength, type: "" }, content: contentA },
    { meta: { name: "b.txt", size: contentB.byteLength, type: "text/plain" }, content: contentB },
  ],
};

function receiver(transfer = new FakeTransfer()) {
  const staging = memoryStaging();
  const targets: string[] = [];
  const r = new Receiver({
    transfer,
    staging,
    directTarget: async (peer) => {
      targets.push(peer);
      return [];
    },
  });
  return { receiver: r, transfer, staging, targets };
}

/** Resolves once the receiver's transfer reaches `state`. */
function reaches(r: Receiver, state: IncomingTransfer["state"]): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (r.incoming?.state !== state) return;
      r.removeEventListener("change", check);
      resolve();
    };
    r.addEventListener("change", check);
    check();
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Receiver", () => {
  it("collects staging that closed tabs left, once, when it starts", () => {
    const { staging } = receiver();
    expect(staging.collected).toBe(1);
  });

  it("dials the sender, shows the offer, and stages the accepted files on disk", async () => {
    const { receiver: r, transfer, staging, targets } = receiver();
    transfer.script = { ...script, interruptions: 2 };
    const { text, peer } = await ticketText();
    const receiving = r.receive(text);
    expect(r.incoming).toMatchObject({ sender: peer, state: "connecting", interruptions: 0 });
    await reaches(r, "offered");
    expect(targets).toEqual([peer]);
    expect(r.incoming?.files?.map((f) => f.name)).toEqual(["a.bin", "b.txt"]);
    r.accept();
    await receiving;
    expect(r.incoming).toMatchObject({
      state: "done",
      toDisk: false,
      interruptions: 2,
      attempts: 3,
      progress: { bytes: 3_200, totalBytes: 3_200 },
    });
    expect(r.incoming?.endedAtMs).toBeGreaterThanOrEqual(r.incoming?.startedAtMs as number);
    expect(r.incoming?.saved?.map((f) => [f.name, f.size])).toEqual([
      ["a.bin", 2_500],
      ["b.txt", 700],
    ]);
    expect(r.incoming?.saved?.[0]?.url).toMatch(/^blob:/);
    expect(staging.held).toHaveLength(1);
    expect(staging.released).toEqual([]);
    r.dispose();
    expect(staging.released).toEqual(staging.held);
  });

  it("writes the accepted files into the writers given, front to back", async () => {
    const { receiver: r, transfer, staging } = receiver();
    transfer.script = script;
    const receiving = r.receive((await ticketText()).text);
    await reaches(r, "offered");
    const [a, b] = [memoryWriter(), memoryWriter()];
    r.accept([a, b]);
    await receiving;
    expect(r.incoming).toMatchObject({ state: "done", toDisk: true });
    expect(r.incoming?.saved).toBeUndefined();
    expect(a.bytes()).toEqual(contentA);
    expect(b.bytes()).toEqual(contentB);
    expect(a.closed && b.closed).toBe(true);
    expect(staging.held).toEqual([]);
  });

  it("shows progress while receiving at most once per interval, never losing the last", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { receiver: r, transfer } = receiver();
    transfer.script = { ...script, chunkBytes: 100 };
    const receiving = r.receive((await ticketText()).text);
    await reaches(r, "offered");
    const progressShown: number[] = [];
    r.addEventListener("change", () => {
      const bytes = r.incoming?.progress?.bytes;
      if (bytes !== undefined && progressShown.at(-1) !== bytes) progressShown.push(bytes);
    });
    r.accept([memoryWriter(), memoryWriter()]);
    await receiving;
    expect(progressShown).toEqual([100, 3_200]);
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(r.incoming).toMatchObject({ state: "done", progress: { bytes: 3_200 } });
  });

  it("ends declined when the user declines", async () => {
    const { receiver: r, transfer } = receiver();
    transfer.script = script;
    const receiving = r.receive((await ticketText()).text);
    await reaches(r, "offered");
    r.decline();
    await receiving;
    expect(r.incoming).toMatchObject({ state: "declined" });
    expect(r.incoming?.error).toBeUndefined();
  });

  it("cancels a transfer under way, removing what was staged, by cancel() or by the caller's signal", async () => {
    for (const stop of ["cancel", "signal"] as const) {
      const { receiver: r, transfer, staging } = receiver();
      transfer.script = { ...script, hang: true };
      const controller = new AbortController();
      const receiving = r.receive((await ticketText()).text, { signal: controller.signal });
      await reaches(r, "offered");
      r.accept();
      await reaches(r, "receiving");
      if (stop === "cancel") r.cancel();
      else controller.abort();
      await receiving;
      expect(r.incoming).toMatchObject({ state: "failed", error: { name: "Error" } });
      expect(staging.removed).toHaveLength(1);
    }
  });

  it("fails on a link that is no link, and starts no second transfer while one is under way", async () => {
    const { receiver: r, transfer } = receiver();
    await r.receive("not-a-ticket");
    expect(r.incoming).toMatchObject({ state: "failed", error: { name: "TransferLinkError" } });

    transfer.script = script;
    const first = (await ticketText()).text;
    const receiving = r.receive(first);
    await reaches(r, "offered");
    const shown = r.incoming;
    await r.receive((await ticketText()).text);
    expect(r.incoming).toBe(shown);
    r.decline();
    await receiving;
  });

  it("says what each carrying peer answered when neither they nor the sender can bring a paid link's files", async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
    const terms = { chainId: 31337, payee: `0x${"11".repeat(20)}`, pricePerMB: 1n, schemes: ["bandwidth"] } as const;
    const text = encodeTicket({
      peer,
      transferId: randomBytes(TRANSFER_ID_BYTES),
      secret: randomBytes(SECRET_BYTES),
      terms: terms as unknown as PaymentTerms,
    });
    const proxy = "12D3KooWProxyProxyProxyProxyProxyCarrier";
    const transfer = {
      receive: async (_link: unknown, _sink: unknown, options: ReceiveOptions = {}) => {
        throw new Error(options.via ? "this peer carries no transfers now" : "the sender's tab is closed");
      },
    };
    const r = new Receiver({
      transfer: transfer as never,
      staging: memoryStaging(),
      directTarget: async () => [],
      payments: {} as TransferPayments,
      reach: async (target) => {
        if (target === peer) throw new Error("no direct link");
      },
      carriers: async () => [proxy],
    });
    await r.receive(text);
    expect(r.incoming?.state).toBe("failed");
    expect(r.incoming?.error?.name).toBe("SenderUnreachableError");
    expect(r.incoming?.error?.message).toContain("the sender's tab is closed");
    expect(r.incoming?.error?.message).toContain(`${proxy.slice(-8)}: this peer carries no transfers now`);
  });
});
