import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Stack } from "../scripts/lib/stack.ts";
import { type Browser, launchBrowser, peerIdOf, startTestStack } from "./harness.ts";

/** What the test reads of a tab's node: libp2p's connections, with the RTCPeerConnection under WebRTC ones. */
interface TabNode {
  peerId: string;
  isDirect(peer: string): boolean;
  dialDirect(peer: string, options: { fresh: boolean }): Promise<unknown[]>;
  libp2p: {
    getConnections(): {
      id: string;
      status: string;
      remotePeer: { toString(): string };
      maConn?: { peerConnection?: RTCPeerConnection };
    }[];
    services: { ping: { ping(target: unknown[], options: { signal: AbortSignal }): Promise<number> } };
  };
}

const DIAL_ROUNDS = 12;

function isDirect(peer: string): boolean {
  return (globalThis as unknown as { tabula: { node: TabNode } }).tabula.node.isDirect(peer);
}

/** Dials `peer` directly from `page` (after closing what is open to it if `fresh`) and pings it over that link. */
async function pingDirect(page: Page, peer: string, fresh: boolean): Promise<number> {
  return await page.evaluate(
    async ({ peer, fresh }) => {
      const { node } = (globalThis as unknown as { tabula: { node: TabNode } }).tabula;
      const target = await node.dialDirect(peer, { fresh });
      return await node.libp2p.services.ping.ping(target, { signal: AbortSignal.timeout(20_000) });
    },
    { peer, fresh },
  );
}

describe("links between tabs", () => {
  let stack: Stack;
  let browser: Browser;
  let a: Page;
  let b: Page;
  let idA: string;
  let idB: string;
  before(async () => {
    stack = await startTestStack();
    browser = await launchBrowser();
    a = await browser.open(stack.appUrl);
    b = await browser.open(stack.appUrl);
    [idA, idB] = [await peerIdOf(a), await peerIdOf(b)];
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("a link the other tab closed is closed here at once, and the next exchange dials a new one", async () => {
    await a.waitForFunction(isDirect, idB, { timeout: 60_000 });
    await b.waitForFunction(isDirect, idA, { timeout: 60_000 });

    // B closes its side of the WebRTC link under libp2p, as a tab that gives up a dial or goes away does.
    const closedOnB = await b.evaluate((peer) => {
      const { libp2p } = (globalThis as unknown as { tabula: { node: TabNode } }).tabula.node;
      const links = libp2p.getConnections().filter((c) => c.remotePeer.toString() === peer && c.maConn?.peerConnection);
      for (const link of links) link.maConn?.peerConnection?.close();
      return links.length;
    }, idA);
    assert.ok(closedOnB >= 1, "B had a WebRTC link to A");

    // A's libp2p would keep its side open (the RTCPeerConnection stays "connected", then "disconnected", for many
    // seconds); the tab closes it as soon as its transports close.
    await a.waitForFunction(
      (peer) => !(globalThis as unknown as { tabula: { node: TabNode } }).tabula.node.isDirect(peer),
      idB,
      { timeout: 5_000 },
    );

    assert.ok((await pingDirect(a, idB, false)) >= 0, "A reached B over a new direct link");
    assert.ok(await a.evaluate(isDirect, idB));
  });

  it("dials between two tabs complete, time after time", async () => {
    // Each round closes the link and sets up a new one (signalling through the relay, ICE, DTLS, SCTP); a set-up
    // that stalls fails the round's dial after libp2p's 6 s.
    const times: number[] = [];
    for (let round = 0; round < DIAL_ROUNDS; round++) {
      const started = performance.now();
      await pingDirect(a, idB, true);
      times.push(Math.round(performance.now() - started));
    }
    console.log(`# ${DIAL_ROUNDS} fresh dials and pings: ${times.join(", ")} ms`);
  });
});
