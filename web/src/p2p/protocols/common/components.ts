import type {
  AbortOptions,
  Connection,
  DialTarget,
  PeerId,
  PrivateKey,
  StreamHandler,
  StreamHandlerOptions,
} from "@libp2p/interface";

/** The part of libp2p's registrar a protocol service needs to serve its protocol. */
export interface ProtocolRegistrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
  unhandle(protocol: string, options?: AbortOptions): Promise<void>;
}

/** The part of libp2p's connection manager a protocol service needs to reach a peer. */
export interface ConnectionOpener {
  openConnection(peer: DialTarget, options?: AbortOptions): Promise<Connection>;
}

/** Components every Tabula protocol service receives from libp2p. */
export interface ProtocolComponents {
  registrar: ProtocolRegistrar;
  connectionManager: ConnectionOpener;
}

/** Components of services that sign what they answer (receipts, announcements). */
export interface SigningComponents extends ProtocolComponents {
  peerId: PeerId;
  privateKey: PrivateKey;
}
