/**
 * Numbers of the data path (DESIGN.md, "Data path"). Every size is in bytes and says so in its name.
 */

/** Version written into every manifest; a reader refuses any other. */
export const MANIFEST_FORMAT_VERSION = 1;

/** Default Reed-Solomon parameters: any 4 of 6 shards rebuild the file (1.5x the file's size in storage). */
export const DEFAULT_DATA_SHARDS = 4;
export const DEFAULT_PARITY_SHARDS = 2;
/** The WASM coder works in GF(2^8) and Tabula spreads one shard per host; 32 keeps manifests and fan-out small. */
export const MAX_TOTAL_SHARDS = 32;

/**
 * Bytes per Merkle leaf of a shard. Must equal `StorageMarket.LEAF_SIZE_BYTES`: an audit answer carries one leaf
 * plus 32 bytes per tree level, and 256 bytes keep that answer near its minimum (960 calldata bytes for a 1 GiB
 * shard, 22 levels) while keeping the tree to 4 Mi leaves per GiB for the tab to hash (see contracts/README.md).
 */
export const LEAF_SIZE_BYTES = 256;
/** Leaf hash preimage prefix: the leaf's index as a big-endian uint64 (contracts/StorageMarket.sol). */
export const LEAF_INDEX_BYTES = 8;

/**
 * About this much plaintext goes into one segment. 4 MiB amortises the per-call cost of WebCrypto and of a worker
 * round trip (both ~0.1 ms, i.e. under 2% at 4 MiB and 400 MB/s), keeps every piece at most 1 MiB for k >= 4, and
 * stays tiny beside IndexedDB's ~127 MiB value limit; the pipeline holds a handful of segments at a time, so a
 * 1 GiB file moves through a few tens of MiB of memory.
 */
export const TARGET_SEGMENT_SIZE_BYTES = 4 * 1024 * 1024;
/** Largest piece (one block): IPFS peers refuse blocks over 2 MiB and recommend at most 1 MiB. */
export const MAX_PIECE_SIZE_BYTES = 1024 * 1024;

export const FILE_KEY_BYTES = 32;
export const FILE_ID_BYTES = 16;
export const AES_GCM_NONCE_BYTES = 12;
export const AES_GCM_TAG_BYTES = 16;
export const SHA256_BYTES = 32;
export const KECCAK256_BYTES = 32;

/** Multicodec codes (https://github.com/multiformats/multicodec/blob/master/table.csv). */
export const RAW_CODEC = 0x55;
export const DAG_CBOR_CODEC = 0x71;
export const SHA2_256_CODE = 0x12;
