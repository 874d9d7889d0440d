import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import { decodeAnnouncement, encodeAnnouncement, type HostAnnouncement, HostDirectory } from "./index.ts";

async function host(overrides: Partial<HostAnnouncement> = {}) {
  const privateKey = await generateKeyPair("Ed25519");
  const peer = peerIdFromPrivateKey(privateKey).toString();
  const announcement: HostAnnouncement = {
    peer,
    freeBytes: 5 * 2 ** 30,
    pricePerGiBMonth: 10n ** 18n,
    addrs: [`/ip4/127.0.0.1/tcp/4001/ws/p2p/${peer}/p2p-circuit`],
    timestampMs: 1_000_000,
    ...overrides,
  };
  return { privateKey, peer, announcement };
}

describe("host announcements", () => {
  it("round-trips a signed announcement, price beyond 2^53 included", async () => {
    const { privateKey, announcement } = await host({ pricePerGiBMonth: 2n ** 63n + 5n });
    const bytes = await encodeAnnouncement(privateKey, announcement);
    expect(await decodeAnnouncement(bytes, { nowMs: 1_000_000, from: announcement.peer })).toEqual(announcement);
  });

  it("refuses announcements signed by another key, published by another peer, stale or from the future", async () => {
    const a = await host();
    const b = await host();
    const forged = await encodeAnnouncement(b.privateKey, a.announcement);
    await expect(decodeAnnouncement(forged, { nowMs: 1_000_000 })).rejects.toMatchObject({
      name: "AnnouncementInvalidError",
    });
    const genuine = await encodeAnnouncement(a.privateKey, a.announcement);
    await expect(decodeAnnouncement(genuine, { nowMs: 1_000_000, from: b.peer })).rejects.toThrow("another peer");
    await expect(decodeAnnouncement(genuine, { nowMs: 1_000_000 + 121_000 })).rejects.toThrow("too old");
    await expect(decodeAnnouncement(genuine, { nowMs: 1_000_000 - 61_000 })).rejects.toThrow("future");
    const tampered = genuine.slice();
    tampered[tampered.length - 80] = (tampered[tampered.length - 80] as number) ^ 1;
    await expect(decodeAnnouncement(tampered, { nowMs: 1_000_000 })).rejects.toMatchObject({
      name: "AnnouncementInvalidError",
    });
  });

  it("keeps the newest announcement per host, forgets stale ones, and picks distinct eligible hosts", async () => {
    let now = 1_000_000;
    const directory = new HostDirectory({ now: () => now });
    const hosts = await Promise.all([host(), host({ freeBytes: 10 }), host(), host()]);
    for (const h of hosts) await directory.receive(await encodeAnnouncement(h.privateKey, h.announcement));
    const first = hosts[0] as Awaited<ReturnType<typeof host>>;
    const newer = { ...first.announcement, freeBytes: 1, timestampMs: now + 30_000 };
    await directory.receive(await encodeAnnouncement(first.privateKey, newer));
    // A replay of the older one does not roll the host back.
    await directory.receive(await encodeAnnouncement(first.privateKey, first.announcement));
    expect(directory.get(first.peer)?.freeBytes).toBe(1);

    const picked = directory.pick(10, { minFreeBytes: 1_000, exclude: new Set([hosts[3]?.peer as string]) });
    expect(picked.map((h) => h.peer).sort()).toEqual([hosts[2]?.peer].sort());
    expect(directory.pick(2)).toHaveLength(2);
    expect(new Set(directory.pick(4).map((h) => h.peer)).size).toBe(4);

    now += 121_000;
    expect(directory.hosts().map((h) => h.peer)).toEqual([first.peer]);
  });
});
