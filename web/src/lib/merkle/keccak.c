// Keccak-256 (the pre-SHA-3 padding used by Ethereum) and the shard Merkle tree of contracts/StorageMarket.sol,
// WebAssembly by ./build.sh. One call hashes a whole piece into its subtree root, so JavaScript pays one boundary
// crossing per piece instead of one per leaf, which is what made per-leaf hashing libraries too slow for the
// pipeline (see merkle.ts for the tree shape and the leaf size).
#include <stdint.h>

typedef uint64_t u64;
typedef uint8_t u8;
typedef uint32_t u32;

#define RATE_BYTES 136
#define HASH_BYTES 32

static const u64 RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

// Rotation offsets indexed by lane x + 5y.
static const int ROT[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

static inline u64 rol(u64 a, int n) { return __builtin_rotateleft64(a, n); }

static void keccakf(u64 *st) {
  u64 A[25], B[25], C[5], D[5];
#pragma clang loop unroll(full)
  for (int i = 0; i < 25; i++) A[i] = st[i];
  for (int r = 0; r < 24; r++) {
#pragma clang loop unroll(full)
    for (int x = 0; x < 5; x++) C[x] = A[x] ^ A[x + 5] ^ A[x + 10] ^ A[x + 15] ^ A[x + 20];
#pragma clang loop unroll(full)
    for (int x = 0; x < 5; x++) D[x] = C[(x + 4) % 5] ^ rol(C[(x + 1) % 5], 1);
#pragma clang loop unroll(full)
    for (int y = 0; y < 5; y++) {
#pragma clang loop unroll(full)
      for (int x = 0; x < 5; x++) {
        // rho and pi: lane (x, y) moves to (y, 2x + 3y).
        B[y + 5 * ((2 * x + 3 * y) % 5)] = rol(A[x + 5 * y] ^ D[x], ROT[x + 5 * y]);
      }
    }
#pragma clang loop unroll(full)
    for (int y = 0; y < 5; y++) {
#pragma clang loop unroll(full)
      for (int x = 0; x < 5; x++) {
        A[x + 5 * y] = B[x + 5 * y] ^ (~B[(x + 1) % 5 + 5 * y] & B[(x + 2) % 5 + 5 * y]);
      }
    }
    A[0] ^= RC[r];
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < 25; i++) st[i] = A[i];
}

static inline u64 load64(const u8 *p) {
  u64 v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

static inline void store64(u8 *p, u64 v) { __builtin_memcpy(p, &v, 8); }


#include <wasm_simd128.h>
typedef v128_t v;

static inline v rolv(v a, int n) {
  if (n == 0) return a;
  return wasm_v128_or(wasm_i64x2_shl(a, n), wasm_u64x2_shr(a, 64 - n));
}

// Two independent Keccak-f[1600] states side by side, one per 64-bit lane of each vector.
static void keccakf_x2(v *st) {
  v A[25], B[25], C[5], D[5];
#pragma clang loop unroll(full)
  for (int i = 0; i < 25; i++) A[i] = st[i];
  for (int r = 0; r < 24; r++) {
#pragma clang loop unroll(full)
    for (int x = 0; x < 5; x++) C[x] = A[x] ^ A[x + 5] ^ A[x + 10] ^ A[x + 15] ^ A[x + 20];
#pragma clang loop unroll(full)
    for (int x = 0; x < 5; x++) D[x] = C[(x + 4) % 5] ^ rolv(C[(x + 1) % 5], 1);
#pragma clang loop unroll(full)
    for (int y = 0; y < 5; y++) {
#pragma clang loop unroll(full)
      for (int x = 0; x < 5; x++) {
        B[y + 5 * ((2 * x + 3 * y) % 5)] = rolv(A[x + 5 * y] ^ D[x], ROT[x + 5 * y]);
      }
    }
#pragma clang loop unroll(full)
    for (int y = 0; y < 5; y++) {
#pragma clang loop unroll(full)
      for (int x = 0; x < 5; x++) {
        A[x + 5 * y] = B[x + 5 * y] ^ wasm_v128_andnot(B[(x + 2) % 5 + 5 * y], B[(x + 1) % 5 + 5 * y]);
      }
    }
    A[0] ^= wasm_i64x2_splat((int64_t)RC[r]);
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < 25; i++) st[i] = A[i];
}

// keccak256 of two messages of the same length at once.
static void keccak256_x2(const u8 *in0, const u8 *in1, u32 len, u8 *out0, u8 *out1) {
  v st[25];
  for (int i = 0; i < 25; i++) st[i] = wasm_i64x2_splat(0);
  while (len >= RATE_BYTES) {
    for (int i = 0; i < RATE_BYTES / 8; i++) st[i] ^= wasm_i64x2_make(load64(in0 + 8 * i), load64(in1 + 8 * i));
    keccakf_x2(st);
    in0 += RATE_BYTES;
    in1 += RATE_BYTES;
    len -= RATE_BYTES;
  }
  u8 last0[RATE_BYTES], last1[RATE_BYTES];
  for (u32 i = 0; i < RATE_BYTES; i++) last0[i] = last1[i] = 0;
  for (u32 i = 0; i < len; i++) {
    last0[i] = in0[i];
    last1[i] = in1[i];
  }
  last0[len] = last1[len] = 0x01;
  last0[RATE_BYTES - 1] |= 0x80;
  last1[RATE_BYTES - 1] |= 0x80;
  for (int i = 0; i < RATE_BYTES / 8; i++) st[i] ^= wasm_i64x2_make(load64(last0 + 8 * i), load64(last1 + 8 * i));
  keccakf_x2(st);
  for (int i = 0; i < HASH_BYTES / 8; i++) {
    store64(out0 + 8 * i, wasm_i64x2_extract_lane(st[i], 0));
    store64(out1 + 8 * i, wasm_i64x2_extract_lane(st[i], 1));
  }
}

static void keccak256_impl(const u8 *in, u32 len, u8 *out) {
  u64 st[25] = {0};
  while (len >= RATE_BYTES) {
    for (int i = 0; i < RATE_BYTES / 8; i++) st[i] ^= load64(in + 8 * i);
    keccakf(st);
    in += RATE_BYTES;
    len -= RATE_BYTES;
  }
  u8 last[RATE_BYTES];
  for (u32 i = 0; i < RATE_BYTES; i++) last[i] = 0;
  for (u32 i = 0; i < len; i++) last[i] = in[i];
  last[len] = 0x01;
  last[RATE_BYTES - 1] |= 0x80;
  for (int i = 0; i < RATE_BYTES / 8; i++) st[i] ^= load64(last + 8 * i);
  keccakf(st);
  for (int i = 0; i < HASH_BYTES / 8; i++) store64(out + 8 * i, st[i]);
}

static void sort_pair(const u8 *a, const u8 *b, u8 *out) {
  int a_first = 1;
  for (int i = 0; i < HASH_BYTES; i++) {
    if (a[i] != b[i]) {
      a_first = a[i] < b[i];
      break;
    }
  }
  const u8 *lo = a_first ? a : b;
  const u8 *hi = a_first ? b : a;
  for (int i = 0; i < HASH_BYTES; i++) {
    out[i] = lo[i];
    out[HASH_BYTES + i] = hi[i];
  }
}

// keccak256(min(a, b) || max(a, b)) as OpenZeppelin's MerkleProof compares bytes32 values (big-endian numbers).
static void hash_pair_sorted(const u8 *a, const u8 *b, u8 *out) {
  int a_first = 1;
  for (int i = 0; i < HASH_BYTES; i++) {
    if (a[i] != b[i]) {
      a_first = a[i] < b[i];
      break;
    }
  }
  const u8 *lo = a_first ? a : b;
  const u8 *hi = a_first ? b : a;
  u64 st[25] = {0};
  for (int i = 0; i < 4; i++) st[i] = load64(lo + 8 * i);
  for (int i = 0; i < 4; i++) st[4 + i] = load64(hi + 8 * i);
  st[8] = 0x01;
  st[16] = 0x8000000000000000ULL;
  keccakf(st);
  for (int i = 0; i < 4; i++) store64(out + 8 * i, st[i]);
}

__attribute__((export_name("keccak256"))) void keccak256(const u8 *in, u32 len, u8 *out) { keccak256_impl(in, len, out); }

// Hashes `count` nodes of 32 bytes at `nodes` up to their root, in place, pairing neighbours level by level and
// carrying an odd last node up unchanged. The root ends up in the first 32 bytes.
__attribute__((export_name("merkle_reduce"))) void merkle_reduce(u8 *nodes, u32 count) {
  u8 pair0[2 * HASH_BYTES], pair1[2 * HASH_BYTES];
  while (count > 1) {
    u32 next = 0;
    u32 i = 0;
    for (; i + 3 < count; i += 4) {
      sort_pair(nodes + HASH_BYTES * i, nodes + HASH_BYTES * (i + 1), pair0);
      sort_pair(nodes + HASH_BYTES * (i + 2), nodes + HASH_BYTES * (i + 3), pair1);
      keccak256_x2(pair0, pair1, 2 * HASH_BYTES, nodes + HASH_BYTES * next, nodes + HASH_BYTES * (next + 1));
      next += 2;
    }
    for (; i + 1 < count; i += 2) {
      hash_pair_sorted(nodes + HASH_BYTES * i, nodes + HASH_BYTES * (i + 1), nodes + HASH_BYTES * next);
      next++;
    }
    if (count & 1) {
      for (int j = 0; j < HASH_BYTES; j++) nodes[HASH_BYTES * next + j] = nodes[HASH_BYTES * (count - 1) + j];
      next++;
    }
    count = next;
  }
}

#define MAX_LEAF_BYTES 4096
#define INDEX_BYTES 8

// The leaf preimage: the leaf's index as 8 big-endian bytes, then its chunk zero-padded to `leaf_size`.
static void leaf_preimage(const u8 *in, u32 len, u32 off, u32 leaf_size, u64 index, u8 *msg) {
  for (int i = 0; i < INDEX_BYTES; i++) msg[i] = (u8)(index >> (8 * (INDEX_BYTES - 1 - i)));
  u32 n = len - off < leaf_size ? len - off : leaf_size;
  for (u32 i = 0; i < n; i++) msg[INDEX_BYTES + i] = in[off + i];
  for (u32 i = n; i < leaf_size; i++) msg[INDEX_BYTES + i] = 0;
}

// Leaf hashes of `len` bytes cut into `leaf_size` chunks numbered from `first_index`, written to `out`.
__attribute__((export_name("merkle_leaves"))) u32 merkle_leaves(const u8 *in, u32 len, u32 leaf_size, u64 first_index,
                                                                 u8 *out) {
  if (leaf_size == 0 || leaf_size > MAX_LEAF_BYTES) return 0;
  u8 msg0[INDEX_BYTES + MAX_LEAF_BYTES], msg1[INDEX_BYTES + MAX_LEAF_BYTES];
  u32 count = 0;
  u32 off = 0;
  for (; off + leaf_size < len; off += 2 * leaf_size) {
    leaf_preimage(in, len, off, leaf_size, first_index + count, msg0);
    leaf_preimage(in, len, off + leaf_size, leaf_size, first_index + count + 1, msg1);
    keccak256_x2(msg0, msg1, INDEX_BYTES + leaf_size, out + HASH_BYTES * count, out + HASH_BYTES * (count + 1));
    count += 2;
  }
  if (off < len) {
    leaf_preimage(in, len, off, leaf_size, first_index + count, msg0);
    keccak256_impl(msg0, INDEX_BYTES + leaf_size, out + HASH_BYTES * count);
    count++;
  }
  return count;
}

// Root of the subtree over `len` bytes of chunks numbered from `first_index`; `scratch` holds one hash per leaf.
// Returns the leaf count.
__attribute__((export_name("merkle_root"))) u32 merkle_root(const u8 *in, u32 len, u32 leaf_size, u64 first_index,
                                                             u8 *scratch, u8 *out) {
  u32 count = merkle_leaves(in, len, leaf_size, first_index, scratch);
  merkle_reduce(scratch, count);
  for (int j = 0; j < HASH_BYTES; j++) out[j] = scratch[j];
  return count;
}
