/**
 * Share links: `<app>#/open?file=<manifest CID>&key=<base64url file key>`. The key sits in the fragment, which
 * browsers never send to any server (nor to an IPFS gateway).
 */
import { CID } from "multiformats/cid";
import { fromBase64Url, toBase64Url } from "../bytes.ts";
import { FILE_KEY_BYTES } from "../constants.ts";
import { InvalidShareLinkError } from "../file-errors.ts";

export const SHARE_ROUTE = "/open";

export function shareLink(appUrl: string, cid: CID | string, rawKey: Uint8Array): string {
  const base = appUrl.split("#")[0] as string;
  return `${base}#${SHARE_ROUTE}?file=${cid.toString()}&key=${toBase64Url(rawKey)}`;
}

/** The CID and key of a share link (or of just its fragment). */
export function parseShareLink(link: string): { cid: CID; rawKey: Uint8Array } {
  const hash = link.includes("#") ? link.slice(link.indexOf("#") + 1) : link;
  const query = hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "";
  const params = new URLSearchParams(query);
  const file = params.get("file");
  const key = params.get("key");
  if (!file || !key) throw new InvalidShareLinkError("file or key missing");
  let cid: CID;
  let rawKey: Uint8Array;
  try {
    cid = CID.parse(file);
    rawKey = fromBase64Url(key);
  } catch (cause) {
    throw new InvalidShareLinkError(`unreadable: ${String(cause)}`);
  }
  if (rawKey.length !== FILE_KEY_BYTES) throw new InvalidShareLinkError("key has the wrong length");
  return { cid, rawKey };
}
