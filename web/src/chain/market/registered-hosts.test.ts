import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { type Hash, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peerIdBytes } from "../../lib/peer-id.ts";
import { waitForSuccess } from "../receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../testing/hardhat.ts";
import { hostOfPeer } from "./host-of-peer.ts";
import { peerOfHost } from "./peer-of-host.ts";
import { registerHost } from "./register-host.ts";
import { registeredHosts } from "./registered-hosts.ts";
import { updateHost } from "./update-host.ts";

const GIB = 1n << 30n;

/** A tab's peer id: its string, and the bytes the tab registers (as core/hosting/paid-hosting.ts sends them). */
async function tabPeer(): Promise<{ id: string; bytes: `0x${string}` }> {
  const id = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
  return { id: id.toString(), bytes: toHex(id.toMultihash().bytes) };
}

describe("the host registry as a tab reads it", () => {
  let chain: TestChain;
  const [a, b, stranger, squatter] = Array.from({ length: 4 }, () => privateKeyToAccount(generatePrivateKey())) as [
    ReturnType<typeof privateKeyToAccount>,
    ReturnType<typeof privateKeyToAccount>,
    ReturnType<typeof privateKeyToAccount>,
    ReturnType<typeof privateKeyToAccount>,
  ];
  const mined = (hash: Hash) => waitForSuccess(chain.client(), { hash, what: "test step" });

  async function register(account: typeof a, peerId: `0x${string}`, pricePerGiBMonth: bigint, stake: bigint) {
    const deadline = (await getBlock(chain.client())).timestamp + 3600n;
    await mined(
      await registerHost(chain.client(account), {
        peerId,
        capacityBytes: 4n * GIB,
        pricePerGiBMonth,
        openRegistration: true,
        stake,
        permitDeadline: deadline,
      }),
    );
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([a.address, b.address, stranger.address, squatter.address]);
  });
  afterAll(() => chain.close());

  it("lists each registered host with its latest peer id and price, joined with its stake and record", async () => {
    const [peerA, peerB, peerB2] = [await tabPeer(), await tabPeer(), await tabPeer()];
    await register(a, peerA.bytes, parseEther("1"), TEST_MARKET_PARAMETERS.minStake);
    await register(b, peerB.bytes, parseEther("2"), 2n * TEST_MARKET_PARAMETERS.minStake);
    await mined(
      await updateHost(chain.client(b), { peerId: peerB2.bytes, capacityBytes: 8n * GIB, pricePerGiBMonth: 3n }),
    );

    const hosts = await registeredHosts(chain.client());
    expect(hosts.map((h) => h.host)).toEqual([a.address, b.address]);
    expect(hosts[0]).toMatchObject({
      peer: peerA.id,
      peerId: peerA.bytes,
      registered: true,
      pricePerGiBMonth: parseEther("1"),
      capacityBytes: 4n * GIB,
      usedBytes: 0n,
      stake: TEST_MARKET_PARAMETERS.minStake,
      lockedCollateral: 0n,
      activeDeals: 0n,
      auditsPassed: 0,
      auditsFailed: 0,
      dealsCompleted: 0,
      timesSlashed: 0,
      paidVolume: 0n,
    });
    expect(hosts[1]).toMatchObject({
      peer: peerB2.id,
      peerId: peerB2.bytes,
      pricePerGiBMonth: 3n,
      capacityBytes: 8n * GIB,
      stake: 2n * TEST_MARKET_PARAMETERS.minStake,
    });
    expect(hosts.some((h) => h.host === stranger.address)).toBe(false);

    // Owner address and peer id, both ways: only the latest peer id names the host.
    expect(await peerOfHost(chain.client(), { host: b.address })).toBe(peerB2.id);
    expect(await peerOfHost(chain.client(), { host: stranger.address })).toBeUndefined();
    expect(await hostOfPeer(chain.client(), { peer: peerB2.id })).toBe(b.address);
    expect(await hostOfPeer(chain.client(), { peer: peerB.id })).toBeUndefined();
    expect(await hostOfPeer(chain.client(), { peer: (await tabPeer()).id })).toBeUndefined();

    // Reading from a block after every registration finds none of them.
    const latest = (await getBlock(chain.client())).number;
    expect(await registeredHosts(chain.client(), { fromBlock: latest + 1n, toBlock: latest + 1n })).toEqual([]);
  });

  it("bytes that are no peer id leave the host listed without a peer; a peer id two hosts claim names neither", async () => {
    const peerA = await peerOfHost(chain.client(), { host: a.address });
    if (!peerA) throw new Error("host a has no peer id");
    await register(squatter, toHex(peerIdBytes(peerA)), 1n, TEST_MARKET_PARAMETERS.minStake);
    expect(await hostOfPeer(chain.client(), { peer: peerA })).toBeUndefined();

    await register(stranger, "0x0024", 1n, TEST_MARKET_PARAMETERS.minStake);
    const listed = (await registeredHosts(chain.client())).find((h) => h.host === stranger.address);
    expect(listed).toMatchObject({ peerId: "0x0024", peer: undefined, registered: true });
    expect(await peerOfHost(chain.client(), { host: stranger.address })).toBeUndefined();
  });
});
