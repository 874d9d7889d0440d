import { describe, expect, it, vi } from "vitest";
import type { WalletSnapshot } from "../core/wallet/wallet.ts";
import { type WalletService, WalletState } from "./wallet.svelte.ts";

const ADDRESS = `0x${"ab".repeat(20)}` as const;

class FakeWallet extends EventTarget {
  readonly chain = { id: 31337, name: "Local Hardhat chain" };
  snapshot: WalletSnapshot = { choices: [], status: "disconnected", wrongChain: false, activity: [], busy: false };
  connect = vi.fn(async () => {});
  restore = vi.fn(async () => {});
  switchChain = vi.fn(async () => {});
  disconnect = vi.fn(async () => {});
  refresh = vi.fn(async () => {});
  signTypedData = vi.fn(async () => "0x1234" as const);
  emit(patch: Partial<WalletSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.dispatchEvent(new Event("change"));
  }
}

function mirror() {
  const service = new FakeWallet();
  return { service, state: new WalletState(service as unknown as WalletService) };
}

describe("WalletState", () => {
  it("starts from the service's snapshot and its configured chain", () => {
    const { state } = mirror();
    expect(state.status).toBe("disconnected");
    expect(state.address).toBeUndefined();
    expect(state.chain).toEqual({ id: 31337, name: "Local Hardhat chain" });
    expect(state.choices).toEqual([]);
    expect(state.busy).toBe(false);
  });

  it("follows every change event: connection, balances, activity, errors", () => {
    const { service, state } = mirror();
    service.emit({
      choices: [{ id: "tabula-burner", name: "Burner account (this tab)", kind: "burner" }],
      status: "connected",
      address: ADDRESS,
      chainId: 31337,
      connectorId: "tabula-burner",
    });
    expect(state.status).toBe("connected");
    expect(state.address).toBe(ADDRESS);
    expect(state.connectorId).toBe("tabula-burner");
    expect(state.choices.map((c) => c.kind)).toEqual(["burner"]);
    service.emit({ eth: 10n ** 19n, tokens: 1000n * 10n ** 18n, activity: [{ at: 1, text: "Received 10 ETH" }] });
    expect(state.eth).toBe(10n ** 19n);
    expect(state.tokens).toBe(1000n * 10n ** 18n);
    expect(state.activity).toEqual([{ at: 1, text: "Received 10 ETH" }]);
    service.emit({ chainId: 1, wrongChain: true, error: "Balances could not be read" });
    expect(state.wrongChain).toBe(true);
    expect(state.chainId).toBe(1);
    expect(state.error).toBe("Balances could not be read");
  });

  it("hands every verb to the service", async () => {
    const { service, state } = mirror();
    await state.connect("tabula-burner");
    await state.restore();
    await state.switchChain();
    await state.disconnect();
    await state.refresh();
    expect(service.connect).toHaveBeenCalledWith("tabula-burner");
    for (const verb of [service.restore, service.switchChain, service.disconnect, service.refresh])
      expect(verb).toHaveBeenCalledOnce();
    expect(await state.signTypedData({} as never)).toBe("0x1234");
  });

  it("stops following the service once detached", () => {
    const { service, state } = mirror();
    state.detach();
    service.emit({ status: "connected", address: ADDRESS });
    expect(state.status).toBe("disconnected");
  });
});
