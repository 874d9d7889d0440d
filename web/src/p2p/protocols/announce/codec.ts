import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { concatBytes } from "../../../lib/bytes.ts";
import { checkBytes, decodeFields, encodeMessage } from "../common/codec.ts";
import { AnnouncementInvalidError, MalformedMessageError } from "../common/errors.ts";
import { decodeTerms, encodeTerms, MAX_TERMS_BYTES, type PaymentTerms } from "../pay/index.ts";
import {
  ANNOUNCEMENT_DOMAIN,
  ANNOUNCEMENT_MAX_AGE_MS,
  ANNOUNCEMENT_VERSION,
  HOSTS_TOPIC,
  MAX_ADDR_BYTES,
  MAX_ADDRS,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_CLOCK_SKEW_MS,
  MAX_PEER_ID_BYTES,
  MAX_SIGNATURE_BYTES,
} from "./constants.ts";

/** A host's offer to store shards, signed with its libp2p key. */
export interface HostAnnouncement {
  /** Peer id of the host (its key signs the announcement). */
  peer: string;
  freeBytes: number;
  /** Price in the platform token's smallest unit per GiB per 30 days; 0 while storage is free. */
  pricePerGiBMonth: bigint;
  /** Multiaddrs to dial it (relayed `/p2p-circuit/webrtc` ones for a tab). */
  addrs: string[];
  timestampMs: number;
  /** What it asks to be paid for the pieces it serves (shard fetch); absent while it serves them free. */
  retrieval?: PaymentTerms;
}

const encoder = new TextEncoder();

function payloadOf(announcement: HostAnnouncement): Uint8Array {
  return encodeMessage({
    v: ANNOUNCEMENT_VERSION,
    peer: announcement.peer,
    free: announcement.freeBytes,
    price: announcement.pricePerGiBMonth,
    addrs: announcement.addrs.map((addr) => multiaddr(addr).bytes),
    at: announcement.timestampMs,
    ...(announcement.retrieval ? { pay: encodeTerms(announcement.retrieval) } : {}),
  });
}

/** Signs and encodes an announcement for the {@link HOSTS_TOPIC} topic. */
export async function encodeAnnouncement(privateKey: PrivateKey, announcement: HostAnnouncement): Promise<Uint8Array> {
  const payload = payloadOf(announcement);
  const signature = await privateKey.sign(concatBytes(encoder.encode(ANNOUNCEMENT_DOMAIN), payload));
  const bytes = encodeMessage({ p: payload, s: signature });
  if (bytes.byteLength > MAX_ANNOUNCEMENT_BYTES)
    throw new RangeError("the announcement is too large; list fewer addresses");
  return bytes;
}

export interface DecodeAnnouncementOptions {
  nowMs?: number;
  maxAgeMs?: number;
  /** The pubsub message's author, when known: it must be the announced peer. */
  from?: string;
}

/**
 * Decodes, bounds-checks and verifies an announcement: signed by the peer it names, not older than
 * {@link ANNOUNCEMENT_MAX_AGE_MS}, not dated in the future. Throws {@link AnnouncementInvalidError}.
 */
export async function decodeAnnouncement(
  bytes: Uint8Array,
  options: DecodeAnnouncementOptions = {},
): Promise<HostAnnouncement> {
  if (bytes.byteLength > MAX_ANNOUNCEMENT_BYTES) throw new AnnouncementInvalidError("it is too large");
  let announcement: HostAnnouncement;
  let payload: Uint8Array;
  let signature: Uint8Array;
  try {
    const envelope = decodeFields(HOSTS_TOPIC, bytes, "announcement");
    payload = envelope.bytes("p", { max: MAX_ANNOUNCEMENT_BYTES });
    signature = envelope.bytes("s", { min: 1, max: MAX_SIGNATURE_BYTES });
    envelope.end();
    const fields = decodeFields(HOSTS_TOPIC, payload, "announcement payload");
    const version = fields.uint("v", 255);
    if (version !== ANNOUNCEMENT_VERSION) throw new AnnouncementInvalidError(`version ${version} is not supported`);
    announcement = {
      peer: fields.string("peer", MAX_PEER_ID_BYTES),
      freeBytes: fields.uint("free"),
      pricePerGiBMonth: fields.bigUint("price"),
      addrs: fields.list("addrs", { max: MAX_ADDRS }, (value, fail) => {
        const addr = checkBytes(value, { min: 1, max: MAX_ADDR_BYTES }, fail);
        try {
          return multiaddr(addr).toString();
        } catch {
          return fail("is not a multiaddr");
        }
      }),
      timestampMs: fields.uint("at"),
    };
    if (fields.has("pay")) announcement.retrieval = decodeTerms(fields.bytes("pay", { max: MAX_TERMS_BYTES }));
    fields.end();
  } catch (error) {
    if (error instanceof AnnouncementInvalidError) throw error;
    if (error instanceof MalformedMessageError)
      throw new AnnouncementInvalidError(error.shortMessage, { cause: error });
    throw new AnnouncementInvalidError("it does not decode", { cause: error });
  }
  if (options.from !== undefined && options.from !== announcement.peer) {
    throw new AnnouncementInvalidError("it was published by another peer");
  }
  const now = options.nowMs ?? Date.now();
  if (announcement.timestampMs > now + MAX_CLOCK_SKEW_MS)
    throw new AnnouncementInvalidError("it is dated in the future");
  if (announcement.timestampMs < now - (options.maxAgeMs ?? ANNOUNCEMENT_MAX_AGE_MS)) {
    throw new AnnouncementInvalidError("it is too old");
  }
  let verified = false;
  try {
    const key = peerIdFromString(announcement.peer).publicKey;
    verified = key ? await key.verify(concatBytes(encoder.encode(ANNOUNCEMENT_DOMAIN), payload), signature) : false;
  } catch {
    verified = false;
  }
  if (!verified) throw new AnnouncementInvalidError("its signature is not the announced peer's");
  return announcement;
}
