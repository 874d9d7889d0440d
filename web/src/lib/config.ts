import { BaseError } from "./errors.ts";

/**
 * Run-time configuration, read from `config.json` beside `index.html`, so one static build serves any chain and
 * any relay. Contract addresses come from the deployments file it names (written by the deploy script).
 */
export interface TabulaConfig {
  chain: {
    id: number;
    name: string;
    rpcUrl: string;
    /** A development chain: the app offers a burner account funded from the chain's unlocked accounts. */
    local: boolean;
    explorerUrl?: string;
  };
  /** Relay multiaddrs (`/dns4/…/tcp/443/wss[/p2p/<id>]`); the tab keeps a reservation on one of them. */
  relays: string[];
  /** Contract addresses on `chain.id`, by the name the deploy script records; chain/chain.ts types them by ABI. */
  contracts: Record<string, `0x${string}`>;
  network: {
    /** Time between two automatic checks (and repairs) of each of my files on the hosts. */
    checkIntervalSeconds: number;
  };
}

/** Default for `network.checkIntervalSeconds`: ten minutes. */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 600;
/** Bounds for `network.checkIntervalSeconds`: at least a few seconds (a check takes some), at most a week. */
export const MIN_CHECK_INTERVAL_SECONDS = 5;
export const MAX_CHECK_INTERVAL_SECONDS = 7 * 24 * 3600;

/** The JSON on disk: like {@link TabulaConfig} but with `deployments`, a URL relative to the config file. */
interface RawConfig {
  chain?: Partial<TabulaConfig["chain"]>;
  relays?: unknown;
  deployments?: unknown;
  network?: unknown;
}

export class ConfigError extends BaseError {
  override name = "ConfigError";
  constructor(shortMessage: string, options: { cause?: unknown } = {}) {
    super(shortMessage, {
      details:
        "The site's config.json (beside index.html) must be valid JSON with chain {id, name, rpcUrl}, relays " +
        "and deployments (and may have network {checkIntervalSeconds}); fix or replace it and reload the page.",
      cause: options.cause,
    });
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Validates the parsed `config.json`; throws {@link ConfigError} naming the first bad field. */
export function parseConfig(raw: unknown): Omit<TabulaConfig, "contracts"> & { deployments: string } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ConfigError("config.json is not an object");
  const { chain, relays, deployments, network } = raw as RawConfig;
  if (typeof chain !== "object" || chain === null) throw new ConfigError("config.json has no chain section");
  if (!Number.isSafeInteger(chain.id) || (chain.id ?? 0) <= 0)
    throw new ConfigError("config.json: chain.id is not a positive integer");
  if (typeof chain.rpcUrl !== "string" || !/^(https?|wss?):\/\//.test(chain.rpcUrl)) {
    throw new ConfigError("config.json: chain.rpcUrl is not an http(s) or ws(s) URL");
  }
  if (!Array.isArray(relays) || relays.some((r) => typeof r !== "string" || !r.startsWith("/"))) {
    throw new ConfigError("config.json: relays must be a list of multiaddr strings");
  }
  if (typeof deployments !== "string" || deployments === "") {
    throw new ConfigError("config.json: deployments must name the deployments file");
  }
  if (network !== undefined && (typeof network !== "object" || network === null || Array.isArray(network))) {
    throw new ConfigError("config.json: network must be an object");
  }
  const interval = (network as { checkIntervalSeconds?: unknown } | undefined)?.checkIntervalSeconds;
  if (
    interval !== undefined &&
    (typeof interval !== "number" ||
      !Number.isFinite(interval) ||
      interval < MIN_CHECK_INTERVAL_SECONDS ||
      interval > MAX_CHECK_INTERVAL_SECONDS)
  ) {
    throw new ConfigError(
      `config.json: network.checkIntervalSeconds must be a number of seconds from ${MIN_CHECK_INTERVAL_SECONDS} to ${MAX_CHECK_INTERVAL_SECONDS}`,
    );
  }
  return {
    chain: {
      id: chain.id as number,
      name: typeof chain.name === "string" && chain.name ? chain.name : `Chain ${chain.id}`,
      rpcUrl: chain.rpcUrl,
      local: chain.local === true,
      ...(typeof chain.explorerUrl === "string" ? { explorerUrl: chain.explorerUrl } : {}),
    },
    relays: relays as string[],
    deployments,
    network: { checkIntervalSeconds: (interval as number | undefined) ?? DEFAULT_CHECK_INTERVAL_SECONDS },
  };
}

/** Picks and validates this chain's addresses from a deployments file `{ "<chainId>": { "<Name>": "0x…" } }`. */
export function parseDeployments(raw: unknown, chainId: number): Record<string, `0x${string}`> {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("the deployments file is not an object");
  const entry = (raw as Record<string, unknown>)[String(chainId)];
  if (typeof entry !== "object" || entry === null) {
    throw new ConfigError(`the deployments file has no contracts for chain ${chainId}`);
  }
  const contracts: Record<string, `0x${string}`> = {};
  for (const [name, address] of Object.entries(entry)) {
    if (typeof address !== "string" || !ADDRESS.test(address)) {
      throw new ConfigError(`the deployments file has a bad address for ${name} on chain ${chainId}`);
    }
    contracts[name] = address as `0x${string}`;
  }
  return contracts;
}

/** Fetches `config.json` relative to the page (so it works under any gateway path) and its deployments file. */
export async function loadConfig(
  base: string | URL = document.baseURI,
  options: { signal?: AbortSignal; fetch?: typeof fetch } = {},
): Promise<TabulaConfig> {
  const get = options.fetch ?? fetch;
  const read = async (url: URL, what: string): Promise<unknown> => {
    let response: Response;
    try {
      response = await get(url, { cache: "no-store", ...(options.signal ? { signal: options.signal } : {}) });
    } catch (cause) {
      throw new ConfigError(`${what} could not be fetched from ${url}`, { cause });
    }
    if (!response.ok) throw new ConfigError(`${what} could not be read from ${url} (HTTP ${response.status})`);
    try {
      return await response.json();
    } catch (cause) {
      throw new ConfigError(`${what} at ${url} is not valid JSON`, { cause });
    }
  };
  const configUrl = new URL("config.json", base);
  const config = parseConfig(await read(configUrl, "config.json"));
  const deploymentsUrl = new URL(config.deployments, configUrl);
  const contracts = parseDeployments(await read(deploymentsUrl, "the deployments file"), config.chain.id);
  return { chain: config.chain, relays: config.relays, contracts, network: config.network };
}
