/** Hash-based routing (`#/files`), so every page works from any gateway path without server rewrites. */
export class Router {
  #path = $state("/");

  constructor() {
    const read = () => {
      this.#path = Router.parse(location.hash);
    };
    read();
    window.addEventListener("hashchange", read);
  }

  /** The route path, e.g. "/" or "/files". */
  get path(): string {
    return this.#path;
  }

  static parse(hash: string): string {
    const path = hash.replace(/^#/, "").split("?")[0] ?? "";
    return path.startsWith("/") ? path : "/";
  }
}
