/**
 * The composition root: reads the run-time config, builds the services (peer, wallet), and mounts the UI.
 * This is the only place where parts are wired together.
 */
import { mount } from "svelte";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { chainFromConfig } from "./chain/chain.ts";
import { createTabulaClient } from "./chain/client.ts";
import { registeredHosts } from "./chain/market/registered-hosts.ts";
import { createWagmiConfig } from "./chain/wagmi.ts";
import { MyFiles } from "./core/files/my-files.ts";
import { AuditAnswerer } from "./core/hosting/audit-answerer.ts";
import { DealDesk } from "./core/hosting/deal-desk.ts";
import { DealSweeper } from "./core/hosting/deal-sweeper.ts";
import { Host } from "./core/hosting/host.ts";
import { hostPieceStore } from "./core/hosting/host-store.ts";
import { HOST_OPERATOR_ROLES, PaidHosting } from "./core/hosting/paid-hosting.ts";
import { wasmPieceRoot } from "./core/hosting/piece-root.ts";
import { KnownHosts } from "./core/network/known-hosts.ts";
import { NetworkFiles } from "./core/network/network-files.ts";
import { tabNetworkParts } from "./core/network/node-parts.ts";
import { TransferPayments } from "./core/payments/transfer-payments.ts";
import { Peers } from "./core/peers/peers.ts";
import { PublicFiles } from "./core/public/public-files.ts";
import { Carrying } from "./core/send/carrying.ts";
import { Receiver } from "./core/send/receive-files.ts";
import { Sender } from "./core/send/send-files.ts";
import { Wallet } from "./core/wallet/wallet.ts";
import { loadConfig, type TabulaConfig } from "./lib/config.ts";
import { BaseError, userMessage } from "./lib/errors.ts";
import { TabulaNode } from "./p2p/node.ts";
import { TRANSFER_PROXY_PROTOCOL } from "./p2p/protocols/transfer/index.ts";
import { FilesState } from "./state/files.svelte.ts";
import { HostingState } from "./state/hosting.svelte.ts";
import { NetworkState } from "./state/network.svelte.ts";
import { NetworkFilesState } from "./state/network-files.svelte.ts";
import { PaidHostingState } from "./state/paid-hosting.svelte.ts";
import { PublicFilesState } from "./state/public-files.svelte.ts";
import { Router } from "./state/router.svelte.ts";
import { SendState } from "./state/send.svelte.ts";
import { WalletState } from "./state/wallet.svelte.ts";
import { ChannelsDB } from "./storage/channels-db.ts";
import { ensureQuota, FilesDB } from "./storage/files-db.ts";
import { acquireProfileSlot } from "./storage/profile.ts";
import App from "./ui/App.svelte";
import ErrorScreen from "./ui/ErrorScreen.svelte";
import "./ui/app.css";
import { WorkerPool } from "../workers/pool.ts";

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
  // Set once the chain has payment channels: this tab then carries paid transfers for others while switched on.
  let carrying: Carrying | undefined;
  const node = await TabulaNode.start({
    carrier: () => carrying?.carrier,
    relays: config.relays,
    storeName,
    localNetwork: isLocalNetwork(config),
    ...(stored.peerKey ? { privateKey: stored.peerKey } : {}),
    onNewKey: (peerKey) => profile.update({ peerKey }),
    hosting: ({ blockstore, pins }) => host.serve(hostPieceStore(blockstore, pins)),
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
  const network = new NetworkState(new Peers(node));
  target.replaceChildren();
  const publicFiles = new PublicFilesState(new PublicFiles(node.helia));
  const hosting = new HostingState(host);
  // Paid hosting where the chain has a market: the connected wallet stakes, the vault's key signs for it.
  let paidHosting: PaidHosting | undefined;
  if (chain.contracts.StorageMarket && chain.contracts.OperatorRegistry) {
    const service = new PaidHosting({
      reader: createTabulaClient({ chain }),
      owner: async () => (account.snapshot.address && !account.snapshot.wrongChain ? account.ownerClient() : undefined),
      signTypedData: (typedData) => wallet.signTypedData(typedData),
      peerId: node.libp2p.peerId.toMultihash().bytes,
    });
    paidHosting = service;
    // Paid pushes are taken once the owner staked and this tab's key may sign σ for it.
    const reader = createTabulaClient({ chain });
    let deskFor: string | undefined;
    let answerer: AuditAnswerer | undefined;
    let sweeper: DealSweeper | undefined;
    service.addEventListener("change", () => {
      const { owner, status, operatorRoles } = service.snapshot;
      const ready = owner && status?.registered && (operatorRoles & HOST_OPERATOR_ROLES) === HOST_OPERATOR_ROLES;
      const key = ready ? owner : undefined;
      if (key === deskFor) return;
      deskFor = key;
      answerer?.stop();
      answerer = undefined;
      sweeper?.stop();
      sweeper = undefined;
      hosting.bind(undefined);
      if (!key) return host.setDealDesk(undefined);
      void service.operatorAccount().then((operator) => {
        if (deskFor !== key) return;
        host.setDealDesk(new DealDesk({ reader, owner: key, operator }));
        // The tab's key answers the audits of the deals it holds, and the page shows each answer.
        const started = new AuditAnswerer({
          reader,
          operator: createTabulaClient({ chain, account: operator }),
          held: () => host.held(),
          readPiece: (cid, options) => host.readPiece(cid, options),
          pieceRoot: wasmPieceRoot,
        });
        const answers = unseen(() => started.answers);
        const failures = unseen(() => started.failures);
        started.addEventListener("change", () => {
          for (const answer of answers()) service.recordAnswer(answer);
          for (const failure of failures()) service.recordAuditFailure(failure);
        });
        answerer = started;
        started.start();
        // The same key completes the deals whose term is over; a shard goes once no running deal binds it.
        const ends = new DealSweeper({
          reader,
          operator: createTabulaClient({ chain, account: operator }),
          owner: key,
          held: () => host.held(),
          remove: (shards) => host.remove(shards),
        });
        const completed = unseen(() => ends.completed);
        const dropped = unseen(() => ends.dropped);
        ends.addEventListener("change", () => {
          for (const deal of completed()) service.recordCompletion(deal);
          for (const shard of dropped()) service.recordDrop(shard);
          service.recordSweepError(ends.error);
        });
        sweeper = ends;
        hosting.bind(ends);
        ends.start();
      });
    });
    let owner: string | undefined;
    account.addEventListener("change", () => {
      const address = account.snapshot.address;
      if (address === owner || account.snapshot.status !== "connected") return;
      owner = address;
      void service.sync();
    });
  }
  const paid = paidHosting ? new PaidHostingState(paidHosting) : undefined;
  // One files database for my files and their placements; a worker pool each for storing/opening and repairing,
  // made when first needed.
  let filesDb: Promise<FilesDB> | undefined;
  const db = () => (filesDb ??= FilesDB.open());
  let filesPool: WorkerPool | undefined;
  let repairPool: WorkerPool | undefined;
  // Where the chain has payment channels, a send link can ask to be paid per MB; the vault's key signs the units.
  const transferPayments =
    paidHosting && (chain.contracts.BandwidthChannel || chain.contracts.HashChainChannel)
      ? new TransferPayments({
          reader: createTabulaClient({ chain }),
          owner: async () =>
            account.snapshot.address && !account.snapshot.wrongChain ? await account.ownerClient() : undefined,
          operatorKey: () => (paidHosting as PaidHosting).operatorAccount(),
          store: await ChannelsDB.open(`${storeName}-channels`),
        })
      : undefined;
  carrying = transferPayments
    ? new Carrying(transferPayments, {
        ...(stored.carry ? { wanted: true } : {}),
        onWanted: (carry) => void profile.update({ carry }),
      })
    : undefined;
  // A host charges its price for downloads once a wallet can be paid; each fetch settles on its own. Carrying
  // follows the wallet too.
  if (transferPayments) {
    let payingTo: string | undefined;
    const followWallet = () => {
      const { address, status, wrongChain } = account.snapshot;
      const owner = status === "connected" && !wrongChain ? address : undefined;
      // A wallet reconnecting keeps its address: carrying goes on with it unless it leaves or changes.
      void carrying?.ownerChanged(status !== "disconnected" && !wrongChain ? address : undefined);
      if (owner === payingTo) return;
      payingTo = owner;
      void host.takePayments(owner ? (price) => transferPayments.payee(price, { settleEach: true }) : undefined);
    };
    account.addEventListener("change", followWallet);
    followWallet();
  }
  // Where the chain has a market, a share link's file is found at the hosts of its deals too, and files can be
  // placed for pay: the connected wallet escrows the deals, the market's registry names the staked hosts.
  const marketReader = createTabulaClient({ chain });
  const myNetworkFiles = new NetworkFiles(
    {
      ...tabNetworkParts(node, knownHosts),
      // Hosts that charge for their pieces are paid per fetch, in the first scheme both take: a download's hosts
      // together, with one signature.
      ...(transferPayments ? { payRetrieval: (requests) => transferPayments.payers(requests) } : {}),
      db,
      codec: () => (repairPool ??= new WorkerPool({ size: 2 })),
      ...(chain.contracts.StorageMarket
        ? {
            chain: { reader: marketReader },
            paid: {
              reader: marketReader,
              payer: async () =>
                account.snapshot.address && !account.snapshot.wrongChain ? await account.ownerClient() : undefined,
              registry: () => registeredHosts(marketReader),
              // The vault's key sends the audit rounds once the owner let it (when setting the audit budget).
              ...(paidHosting ? { operatorKey: () => (paidHosting as PaidHosting).operatorAccount() } : {}),
            },
          }
        : {}),
    },
    { checkIntervalMs: config.network.checkIntervalSeconds * 1000 },
  );
  // A wallet that connects finishes the paid uploads a closed tab left half done.
  let payerAddress: string | undefined;
  account.addEventListener("change", () => {
    const { address, status } = account.snapshot;
    if (status !== "connected" || address === payerAddress) return;
    payerAddress = address;
    void myNetworkFiles.resumeDeals().catch((error: unknown) => console.error(error));
  });
  const networkFiles = new NetworkFilesState(myNetworkFiles);
  const transfer = node.libp2p.services.transfer;
  const send = new SendState(
    new Sender(transfer, transferPayments),
    new Receiver({
      transfer,
      directTarget: (peer) => node.directTarget(peer),
      ...(transferPayments ? { payments: transferPayments } : {}),
      // A paid link whose sender cannot be reached directly is carried by a peer that carries transfers.
      reach: async (peer, signal) => void (await node.dialDirect(peer, { signal })),
      carriers: () => node.peersSpeaking(TRANSFER_PROXY_PROTOCOL),
    }),
    transferPayments,
    carrying,
  );
  // The channels kept by earlier visits are watched as soon as a wallet can send for them.
  if (transferPayments) {
    let loaded = false;
    account.addEventListener("change", () => {
      if (loaded || account.snapshot.status !== "connected") return;
      loaded = true;
      void transferPayments.load().catch((error: unknown) => console.error(error));
    });
  }
  const myFiles = new MyFiles({
    db,
    codec: () => (filesPool ??= new WorkerPool()),
    ensureQuota: (bytes) => ensureQuota(bytes),
    signTypedData: (typedData) => wallet.signTypedData(typedData),
    remote: (local, cid) => myNetworkFiles.remote(local, cid),
    onStored: (cid) => myNetworkFiles.onStored(cid),
    beforeRemove: (cid) => myNetworkFiles.endDeals(cid),
  });
  const files = new FilesState(myFiles);
  mount(App, {
    target,
    props: { router: new Router(), network, wallet, publicFiles, files, hosting, paid, networkFiles, send },
  });
  void wallet.restore();
  Object.assign(globalThis, {
    tabula: {
      node,
      config,
      wallet,
      account,
      network,
      host,
      knownHosts,
      hosting,
      paidHosting,
      networkFiles,
      send,
      transferPayments,
      carrying,
    },
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

/** Reads a newest-first list that only grows at its head: each call gives what was added since, oldest first. */
function unseen<T>(list: () => readonly T[]): () => T[] {
  let seen = 0;
  return () => {
    const items = list();
    const added = items.slice(0, items.length - seen).reverse();
    seen = items.length;
    return added;
  };
}
