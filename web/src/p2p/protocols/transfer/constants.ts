/** Transfer: tab-to-tab sending of files, end-to-end encrypted with the key in the share link, resumable. */
export const TRANSFER_PROTOCOL = "/tabula/transfer/1.0.0";

/** Plaintext bytes per chunk: the unit of encryption, acknowledgement and resumption. */
export const CHUNK_BYTES = 1024 * 1024;
/** Smallest and largest chunk size a receiver accepts in an offer. */
export const MIN_CHUNK_BYTES = 16 * 1024;
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** Random nonce (96 bits, AES-GCM) and tag prepended/appended to every sealed chunk. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Largest sealed chunk. */
export const MAX_SEALED_CHUNK_BYTES = MAX_CHUNK_BYTES + NONCE_BYTES + TAG_BYTES;
/** Largest message: a sealed chunk plus its envelope. */
export const MAX_MESSAGE_BYTES = MAX_SEALED_CHUNK_BYTES + 1024;
/** Largest sealed file list, and limits on what it lists. */
export const MAX_META_BYTES = 256 * 1024;
export const MAX_FILES = 1_000;
export const MAX_NAME_BYTES = 1_024;
export const MAX_TYPE_BYTES = 256;

/** Bytes the sender may send ahead of the receiver's acknowledgements (the receiver writes them to disk). */
export const WINDOW_BYTES = 8 * 1024 * 1024;
/** Chunks a sender reads and seals ahead of the one it is writing. */
export const SEND_AHEAD_CHUNKS = 3;
/** Chunks a receiver decrypts and queues for its sink ahead of the one being written. */
export const RECEIVE_AHEAD_CHUNKS = 4;
/** How long either side waits for the other's next message. */
export const MESSAGE_TIMEOUT_MS = 30_000;
/** How long a sender that refused the payments keeps taking the receiver's messages, until it read why. */
export const REFUSAL_DRAIN_MS = 5_000;
/** Reconnections a receiver tries after the connection drops, with a doubling pause starting at the base. */
export const RESUME_ATTEMPTS = 6;
export const RESUME_BACKOFF_MS = 250;
export const RESUME_BACKOFF_MAX_MS = 8_000;
/** Window over which progress reports their speed. */
export const SPEED_WINDOW_MS = 2_000;

export const TRANSFER_ID_BYTES = 16;
export const SECRET_BYTES = 32;
export const AUTH_TAG_BYTES = 32;
/** First byte of an encoded ticket. */
export const TICKET_VERSION = 1;
/** First byte of a ticket that carries payment terms. */
export const PAID_TICKET_VERSION = 2;
/** Plaintext bytes per chunk of a paid transfer: the receiver pays for each chunk once it is written. */
export const PAID_CHUNK_BYTES = 512 * 1024;
/** How long a paid sender waits for the payment that lets it send its next chunk. */
export const PAYMENT_TIMEOUT_MS = 30_000;
export const MAX_INBOUND_STREAMS = 4;
export const MAX_OUTBOUND_STREAMS = 4;
