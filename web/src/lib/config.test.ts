import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CHECK_INTERVAL_SECONDS, loadConfig, parseConfig, parseDeployments } from "./config.ts";

const good = {
  chain: { id: 31337, name: "Local", rpcUrl: "http://127.0.0.1:8545", local: true },
  relays: ["/ip4/127.0.0.1/tcp/9090/ws"],
  deployments: "deployments.json",
};

describe("parseConfig", () => {
  it("accepts a complete config, with ten minutes between automatic checks unless it says otherwise", () => {
    expect(parseConfig(good)).toEqual({ ...good, network: { checkIntervalSeconds: DEFAULT_CHECK_INTERVAL_SECONDS } });
    expect(DEFAULT_CHECK_INTERVAL_SECONDS).toBe(600);
    expect(parseConfig({ ...good, network: {} }).network.checkIntervalSeconds).toBe(600);
    expect(parseConfig({ ...good, network: { checkIntervalSeconds: 20 } }).network).toEqual({
      checkIntervalSeconds: 20,
    });
  });

  it.each([
    ["not an object", 42, /not an object/],
    ["no chain", { ...good, chain: undefined }, /no chain section/],
    ["bad chain id", { ...good, chain: { ...good.chain, id: -1 } }, /chain.id/],
    ["bad rpc url", { ...good, chain: { ...good.chain, rpcUrl: "ftp://x" } }, /rpcUrl/],
    ["relays not multiaddrs", { ...good, relays: ["relay.example.com"] }, /relays/],
    ["no deployments", { ...good, deployments: "" }, /deployments/],
    ["network not an object", { ...good, network: 600 }, /network must be an object/],
    ["check interval not a number", { ...good, network: { checkIntervalSeconds: "600" } }, /checkIntervalSeconds/],
    ["check interval too short", { ...good, network: { checkIntervalSeconds: 1 } }, /checkIntervalSeconds/],
    ["check interval too long", { ...good, network: { checkIntervalSeconds: 1e9 } }, /checkIntervalSeconds/],
    ["check interval not finite", { ...good, network: { checkIntervalSeconds: Number.NaN } }, /checkIntervalSeconds/],
  ])("rejects %s with a ConfigError naming the field", (_, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe("parseDeployments", () => {
  it("returns the addresses for the configured chain", () => {
    const token = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    expect(parseDeployments({ 31337: { Token: token }, 1: {} }, 31337)).toEqual({ Token: token });
  });

  it("refuses a missing chain and malformed addresses", () => {
    expect(() => parseDeployments({ 1: {} }, 31337)).toThrow(/no contracts for chain 31337/);
    expect(() => parseDeployments({ 31337: { Token: "0x1234" } }, 31337)).toThrow(/bad address for Token/);
  });
});

describe("loadConfig", () => {
  const serve = (files: Record<string, string>) =>
    (async (input: RequestInfo | URL) => {
      const path = new URL(String(input)).pathname;
      const body = files[path];
      return body === undefined ? new Response("missing", { status: 404 }) : new Response(body);
    }) as typeof fetch;

  it("resolves config.json and the deployments file relative to the page, under any gateway prefix", async () => {
    const base = "https://gw.example/ipfs/bafyroot/index.html";
    const config = await loadConfig(base, {
      fetch: serve({
        "/ipfs/bafyroot/config.json": JSON.stringify({ ...good, network: { checkIntervalSeconds: 90 } }),
        "/ipfs/bafyroot/deployments.json": JSON.stringify({ 31337: { Token: `0x${"ab".repeat(20)}` } }),
      }),
    });
    expect(config.contracts.Token).toBe(`0x${"ab".repeat(20)}`);
    expect(config.relays).toEqual(good.relays);
    expect(config.network.checkIntervalSeconds).toBe(90);
  });

  it("reports unreadable or invalid files as ConfigError", async () => {
    await expect(loadConfig("https://x/", { fetch: serve({}) })).rejects.toThrow(/HTTP 404/);
    await expect(loadConfig("https://x/", { fetch: serve({ "/config.json": "{not json" }) })).rejects.toThrow(
      /not valid JSON/,
    );
  });
});
