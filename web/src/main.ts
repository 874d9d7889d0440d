/**
 * The composition root: reads the run-time config, builds the services (peer, wallet), and mounts the UI.
 * This is the only place where parts are wired together.
 */
import { mount } from "svelte";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { chainFromConfig } from "./chain/chain.ts";
import { createWagmiConfig } from "./chain/wagmi.ts";
import { Wallet } from "./core/wallet/wallet.ts";
import { loadConfig, type TabulaConfig } from "./lib/config.ts";
import { BaseError, userMessage } from "./lib/errors.ts";
import { Host } from "./p2p/hosting/host.ts";
import { KnownHosts } from "./p2p/hosting/hosts.ts";
import { TabulaNode } from "./p2p/node.ts";
import { FilesState } from "./state/files.svelte.ts";
import { HostingState } from "./state/hosting.svelte.ts";
import { NetworkState } from "./state/network.svelte.ts";
import { NetworkFilesState } from "./state/network-files.svelte.ts";
import { PublicFilesState } from "./state/public-files.svelte.ts";
import { Router } from "./state/router.svelte.ts";
import { SendState } from "./state/send.svelte.ts";
import { WalletState } from "./state/wallet.svelte.ts";
import { acquireProfileSlot } from "./storage/profile.ts";
import App from "./ui/App.svelte";
import ErrorScreen from "./ui/ErrorScreen.svelte";
import "./ui/app.css";

const target = document.getElementById("app") as HTMLElement;

/** Relays on private or loopback addresses need the permissive connection gater. */
function isLocalNetwork(config: TabulaConfig): boolean {
  return (
    config.chain.local ||
    config.relays.some((r) => /\/(ip4\/(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)|dns4\/localhost)/.test(r))
  );
}

async function boot(): Promise<void> {
  const config = await loadConfig();
  const profile = await acquireProfileSlot();
  addEventListener("pagehide", () => profile.release());
  const stored = await profile.read();

  const storeName = `tabula-${profile.slot}`;
  const host = await Host.open(storeName);
  const node = await TabulaNode.start({
    relays: config.relays,
    storeName,
    localNetwork: isLocalNetwork(config),
    ...(stored.peerKey ? { privateKey: stored.peerKey } : {}),
    onNewKey: (peerKey) => profile.update({ peerKey }),
    hosting: () => host.hooks(),
  });
  host.attach(node);
  const knownHosts = new KnownHosts();
  knownHosts.attach(node);

  const chain = chainFromConfig(config.chain, config.contracts);
  let burner: ReturnType<typeof privateKeyToAccount> | undefined;
  if (config.chain.local) {
    let burnerKey = stored.burnerKey;
    if (!burnerKey) {
      burnerKey = generatePrivateKey();
      await profile.update({ burnerKey });
    }
    burner = privateKeyToAccount(burnerKey);
  }
  const wagmi = createWagmiConfig({ chain, local: config.chain.local, ...(burner ? { burner } : {}) });
  const account = new Wallet({ config: wagmi, chain });
  const wallet = new WalletState(account);
  const network = new NetworkState(node);
  target.replaceChildren();
  const publicFiles = new PublicFilesState(node.helia);
  const hosting = new HostingState(host);
  const networkFiles = new NetworkFilesState(node, knownHosts, {
    checkIntervalMs: config.network.checkIntervalSeconds * 1000,
  });
  const send = new SendState(node);
  const files = new FilesState({
    signTypedData: (typedData) => wallet.signTypedData(typedData),
    remote: (local, cid) => networkFiles.remote(local, cid),
    onStored: (cid) => networkFiles.onStored(cid),
  });
  mount(App, {
    target,
    props: { router: new Router(), network, wallet, publicFiles, files, hosting, networkFiles, send },
  });
  void wallet.restore();
  Object.assign(globalThis, {
    tabula: { node, config, wallet, account, network, host, knownHosts, hosting, networkFiles, send },
  });
}

boot().catch((error: unknown) => {
  console.error(error);
  target.replaceChildren();
  mount(ErrorScreen, {
    target,
    props: {
      title:
        error instanceof BaseError && error.name === "ConfigError"
          ? "Tabula's configuration could not be read"
          : "Tabula could not start",
      message: error instanceof BaseError ? error.shortMessage : userMessage(error),
      ...(error instanceof BaseError && error.details ? { details: error.details } : {}),
    },
  });
});
