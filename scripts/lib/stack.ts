import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Address } from "viem";
import { deployAll, LOCAL_CHAIN_ID } from "../../contracts/deploy/index.ts";
import { type Chain, devAccounts, HARDHAT_CLI, startChain } from "./chain.ts";
import { assertPortFree } from "./ports.ts";
import { type Relay, startRelay } from "./relay.ts";
import { startStaticServer } from "./static-server.ts";

const ROOT = join(import.meta.dirname, "..", "..");

export interface StackPorts {
  chain: number;
  relay: number;
  app: number;
}

export interface StackOptions {
  host?: string;
  ports: StackPorts;
  /** "dev": Vite's dev server on web/; "dist": the built dist/ as a gateway would serve it. */
  app: "dev" | "dist";
  /** Path prefix for the "dist" app (e.g. `/ipfs/<cid>/`). */
  prefix?: string;
  /** Replace served files (relative to the site root), e.g. a broken config.json for a test. */
  files?: Record<string, string>;
  /** Change the config.json the app is served (e.g. other relays). */
  configure?: (config: StackConfig) => StackConfig;
  /** Also write public/config.json and public/deployments.json (the local default that builds carry). */
  writePublic?: boolean;
  log?: (line: string) => void;
}

export interface StackConfig {
  chain: { id: number; name: string; rpcUrl: string; local: boolean };
  relays: string[];
  deployments: string;
}

export interface Stack {
  appUrl: string;
  chain: Chain;
  relay: Relay;
  contracts: Record<string, Address>;
  /** The config.json the app is served. */
  config: StackConfig;
  stop(): Promise<void>;
}

/** Compiles the contracts and writes the app's typed ABIs (quick when nothing changed). */
export async function compileContracts(): Promise<void> {
  const run = promisify(execFile);
  const env = { ...process.env, CI: "true", HARDHAT_DISABLE_TELEMETRY: "true" };
  await run(process.execPath, [HARDHAT_CLI, "build", "--quiet"], { cwd: ROOT, env });
  await run(process.execPath, [join(ROOT, "scripts", "abi.ts")], { cwd: ROOT, env });
}

/** Fails with {@link PortInUseError} naming the first port of the stack that is taken. */
export async function assertStackPortsFree(host: string, ports: StackPorts): Promise<void> {
  await assertPortFree("chain", host, ports.chain);
  await assertPortFree("relay", host, ports.relay);
  await assertPortFree("app", host, ports.app);
}

/**
 * The whole local network on loopback: a Hardhat chain with Tabula's contracts deployed, a libp2p relay, and the
 * app, whose config.json points at both. Stops everything it started, in reverse order.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  await assertStackPortsFree(host, options.ports);

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
  };
  try {
    const chain = await startChain({ host, port: options.ports.chain, quiet: true });
    stops.push(() => chain.stop());
    log(`chain    ${chain.rpcUrl} (id ${chain.chainId})`);

    const [deployer] = await devAccounts(chain.rpcUrl);
    if (!deployer) throw new Error("the local chain has no development accounts");
    const { contracts } = await deployAll({
      rpcUrl: chain.rpcUrl,
      account: { address: deployer, type: "json-rpc" },
      log: (line) => log(`  ${line}`),
    });
    const deployments = { [String(LOCAL_CHAIN_ID)]: contracts };

    const relay = await startRelay({ host, port: options.ports.relay });
    stops.push(() => relay.stop());
    log(`relay    ${relay.addresses.join(" ")}`);

    const defaults: StackConfig = {
      chain: { id: chain.chainId, name: "Local Hardhat chain", rpcUrl: chain.rpcUrl, local: true },
      relays: relay.addresses,
      deployments: "deployments.json",
    };
    const config = options.configure ? options.configure(defaults) : defaults;
    const files: Record<string, string> = {
      "config.json": `${JSON.stringify(config, null, 2)}\n`,
      "deployments.json": `${JSON.stringify(deployments, null, 2)}\n`,
      ...options.files,
    };
    if (options.writePublic) {
      // The committed local default omits the relay's peer id, which changes on every start.
      const publicConfig = { ...defaults, relays: [`/ip4/${host}/tcp/${options.ports.relay}/ws`] };
      await writeFile(join(ROOT, "public", "config.json"), `${JSON.stringify(publicConfig, null, 2)}\n`);
      await writeFile(join(ROOT, "public", "deployments.json"), `${JSON.stringify(deployments, null, 2)}\n`);
    }

    let appUrl: string;
    if (options.app === "dist") {
      const server = await startStaticServer({
        root: join(ROOT, "dist"),
        host,
        port: options.ports.app,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        overrides: files,
      });
      stops.push(() => server.stop());
      appUrl = server.url;
    } else {
      const { createServer } = await import("vite");
      const vite = await createServer({
        configFile: join(ROOT, "vite.config.ts"),
        server: { host, port: options.ports.app, strictPort: true },
        logLevel: "warn",
        plugins: [
          {
            name: "tabula-runtime-config",
            configureServer(server) {
              server.middlewares.use((req, res, next) => {
                const name = (req.url ?? "").split("?")[0]?.replace(/^\//, "") ?? "";
                const body = files[name];
                if (body === undefined) return next();
                res.setHeader("content-type", "application/json");
                res.setHeader("cache-control", "no-store");
                res.end(body);
              });
            },
          },
        ],
      });
      await vite.listen();
      stops.push(() => vite.close());
      appUrl = `http://${host}:${options.ports.app}/`;
    }
    log(`app      ${appUrl}`);
    return { appUrl, chain, relay, contracts, config, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
