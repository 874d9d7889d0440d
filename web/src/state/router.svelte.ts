/** Hash-based routing (`#/files`), so every page works from any gateway path without server rewrites. */
export class Router {
  #path = $state("/");
  #hash = $state("");

  constructor() {
    const read = () => {
      this.#path = Router.parse(location.hash);
      this.#hash = location.hash;
    };
    read();
    window.addEventListener("hashchange", read);
  }

  /** The route path, e.g. "/" or "/files". */
  get path(): string {
    return this.#path;
  }

  /** The route's parameters: a second link opened in the same tab changes them and not the path. */
  get params(): URLSearchParams {
    return new URLSearchParams(this.#hash.split("?")[1] ?? "");
  }

  /** The whole location hash, e.g. "#/open?file=…". */
  get hash(): string {
    return this.#hash;
  }

  static parse(hash: string): string {
    const path = hash.replace(/^#/, "").split("?")[0] ?? "";
    return path.startsWith("/") ? path : "/";
  }
}
