import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".car": "application/vnd.ipld.car",
  ".webmanifest": "application/manifest+json",
};

export interface StaticServerOptions {
  /** Directory to serve (the built `dist/`). */
  root: string;
  host: string;
  port: number;
  /** Serve the site under this path, like a path gateway does (`/ipfs/<cid>/`). */
  prefix?: string;
  /** Files served from memory instead of disk, by path relative to the site root (e.g. `config.json`). */
  overrides?: Record<string, string>;
}

/**
 * A static file server that behaves like an IPFS gateway for our purposes: files only, no rewrites, optional path
 * prefix. Used by `npm start --dist` and the end-to-end tests.
 */
export async function startStaticServer(
  options: StaticServerOptions,
): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const prefix = `/${(options.prefix ?? "").replace(/^\/+|\/+$/g, "")}/`.replace(/^\/\/$/, "/");
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (!path.startsWith(prefix)) {
      res.writeHead(404).end("not found");
      return;
    }
    let relative = path.slice(prefix.length);
    if (relative === "" || relative.endsWith("/")) relative += "index.html";
    const override = options.overrides?.[relative];
    if (override !== undefined) {
      res.writeHead(200, {
        "content-type": MIME[extname(relative)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(override);
      return;
    }
    const file = normalize(join(options.root, relative));
    if (!file.startsWith(normalize(options.root) + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error("not a file");
      res.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "content-length": info.size,
      });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    url: `http://${options.host}:${options.port}${prefix}`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
