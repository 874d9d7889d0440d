import type { Connection, DialTarget } from "@libp2p/interface";
import { serviceCapabilities } from "@libp2p/interface";
import { abortReason } from "../../../lib/signals.ts";
import type { ProtocolComponents } from "../common/components.ts";
import { MalformedMessageError } from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import type { HeldShard } from "../common/held-shard.ts";
import { ProtocolService } from "../common/service.ts";
import { decodeAuditorMessage, decodeHostMessage, encodeAuditorMessage, encodeHostMessage } from "./codec.ts";
import {
  ANSWER_TIMEOUT_MS,
  AUDIT_PROTOCOL,
  MAX_CHALLENGES_PER_STREAM,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
} from "./constants.ts";
import { proveHeldLeaf } from "./held-proof.ts";
import type { Audit, AuditChallenge, AuditInit, AuditOptions, AuditResult } from "./index.ts";
import { type LeafProof, verifyLeaf } from "./merkle.ts";

export class AuditService extends ProtocolService implements Audit {
  readonly protocol = AUDIT_PROTOCOL;
  readonly #init: AuditInit;
  /** Piece roots by `cid@firstLeaf`: content-addressed, so safe to keep across audits. */
  readonly #rootCache = new Map<string, Uint8Array>();

  constructor(components: ProtocolComponents, init: AuditInit = {}) {
    super(components, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: init.timeoutMs ?? ANSWER_TIMEOUT_MS,
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS,
    });
    this.#init = init;
  }

  readonly [Symbol.toStringTag] = "@tabula/audit";
  readonly [serviceCapabilities]: string[] = ["@tabula/audit"];

  protected get serving(): boolean {
    return this.#init.host !== undefined;
  }

  async audit(
    peer: DialTarget,
    challenges: readonly AuditChallenge[],
    options: AuditOptions = {},
  ): Promise<AuditResult[]> {
    const { signal } = options;
    if (challenges.length === 0) return [];
    if (challenges.length > MAX_CHALLENGES_PER_STREAM) {
      throw new RangeError(`at most ${MAX_CHALLENGES_PER_STREAM} challenges per audit call`);
    }
    const { framed } = await this.open(peer, signal);
    try {
      const started = performance.now();
      for (const challenge of challenges) {
        await framed.write(encodeAuditorMessage({ type: "challenge", ...challenge }), { signal });
      }
      const results: AuditResult[] = [];
      for (const challenge of challenges) {
        const answer = decodeHostMessage(await framed.readRequired({ signal }));
        const latencyMs = performance.now() - started;
        if (answer.type === "error") {
          results.push({
            challenge,
            ok: false,
            reason: answer.code === "not-held" ? "not-held" : "refused",
            latencyMs,
          });
          continue;
        }
        const ok = verifyLeaf(challenge.root, challenge.leafIndex, answer);
        results.push(ok ? { challenge, ok, latencyMs } : { challenge, ok, reason: "bad-proof", latencyMs });
      }
      await framed.close({ signal });
      return results;
    } catch (error) {
      const reason = signal?.aborted ? abortReason(signal) : error instanceof Error ? error : new Error(String(error));
      framed.abort(reason);
      throw reason;
    }
  }

  protected async serve(framed: FramedStream, _connection: Connection, signal: AbortSignal): Promise<void> {
    const host = this.#init.host;
    if (!host) return;
    for (let answered = 0; ; answered++) {
      const bytes = await framed.read({ signal });
      if (bytes === undefined) break;
      if (answered >= MAX_CHALLENGES_PER_STREAM) {
        throw new MalformedMessageError(this.protocol, "too many challenges on one stream");
      }
      const challenge = decodeAuditorMessage(bytes);
      const held = await host.held(challenge.manifest, challenge.shardIndex, { signal });
      const answer = held ? await this.#prove(held, challenge.leafIndex, signal) : undefined;
      const reply = answer
        ? { type: "proof" as const, ...answer }
        : { type: "error" as const, code: "not-held", message: "this host does not hold that leaf" };
      await framed.write(encodeHostMessage(reply), { signal });
    }
    await framed.close({ signal });
  }

  /** The proof for one leaf from the bytes in the store, or `undefined` when they are gone. */
  async #prove(held: HeldShard, leafIndex: number, signal: AbortSignal): Promise<LeafProof | undefined> {
    const host = this.#init.host;
    if (!host) return undefined;
    return await proveHeldLeaf(
      held,
      leafIndex,
      {
        readPiece: host.readPiece,
        rootCache: this.#rootCache,
        ...(host.pieceRoot ? { pieceRoot: host.pieceRoot } : {}),
      },
      { signal },
    );
  }
}
