#include "output/community_id.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <memory>

namespace rsthop::output {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v & 0xff);
}

// seed(2) . saddr . daddr . proto(1) . pad(1) . sport(2) . dport(2), at most
// 38 bytes; rounded up to whole words for the cache's hash and compare.
constexpr size_t kInputMax = 40;
using Input = std::array<uint8_t, kInputMax>;

#if OPENSSL_VERSION_MAJOR >= 4
// OpenSSL looks the digest up in its provider tables on every
// EVP_DigestInit with EVP_sha1(); fetching it once skips that.  Never freed:
// it lives as long as the process.
const EVP_MD* sha1() {
  static const EVP_MD* md = [] {
    if (const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr)) return fetched;
    return EVP_sha1();
  }();
  return md;
}
#endif

// One SHA-1 of at most 40 bytes.  OpenSSL 3's low-level SHA1_Init/Update/Final
// (deprecated, still shipped) run the same assembly as EVP (SHA-NI where the
// CPU has it) without EVP's per-call dispatch: ~1,170 instructions per hash
// against ~1,830 with a fetched digest and a reused context (docs/BENCHMARKS.md,
// session 6).  Where they are gone, EVP with the fetched digest.  Note that
// SHA1() itself is no shortcut: OpenSSL 3 routes it through EVP_Q_digest,
// which fetches the digest on every call.
bool digest(const uint8_t* in, size_t n, unsigned char out[20]) {
#if OPENSSL_VERSION_MAJOR < 4
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA_CTX c;
  bool ok = SHA1_Init(&c) == 1 && SHA1_Update(&c, in, n) == 1 && SHA1_Final(out, &c) == 1;
#pragma GCC diagnostic pop
  return ok;
#else
  // One context per thread, reset by each init: EVP_Digest would allocate
  // and free one per call.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned int dlen = 0;
  return ctx && EVP_DigestInit_ex(ctx.get(), sha1(), nullptr) == 1 && EVP_DigestUpdate(ctx.get(), in, n) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &dlen) == 1 && dlen == 20;
#endif
}

// Standard base64 (RFC 4648, with padding) of a 20-byte digest: 28
// characters, the last one '='.
void base64_20(const unsigned char d[20], char out[28]) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < 18; i += 3) {
    uint32_t v = uint32_t{d[i]} << 16 | uint32_t{d[i + 1]} << 8 | d[i + 2];
    out[o++] = kAlphabet[v >> 18];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  uint32_t v = uint32_t{d[18]} << 16 | uint32_t{d[19]} << 8;
  out[o++] = kAlphabet[v >> 18];
  out[o++] = kAlphabet[(v >> 12) & 63];
  out[o++] = kAlphabet[(v >> 6) & 63];
  out[o] = '=';
}

CommunityId compute(const Input& in, size_t n) {
  CommunityId id;
  unsigned char d[20];
  if (!digest(in.data(), n, d)) return id;
  static_assert(sizeof(id.text) >= 30, "\"1:\" and 28 base64 characters");
  id.text[0] = '1';
  id.text[1] = ':';
  base64_20(d, id.text + 2);
  id.len = 30;
  return id;
}

// Direct-mapped: a busy trace has far more lines than live flows, and a
// collision only costs one digest.
struct Cache {
  static constexpr size_t kSlots = 512;
  struct Slot {
    Input in{};
    uint8_t n = 0;  // 0: empty
    CommunityId id;
  };
  std::array<Slot, kSlots> slots;
};

size_t slot_of(const Input& in) {
  uint64_t h = 0;
  for (size_t i = 0; i < kInputMax; i += 8) {
    uint64_t w;
    std::memcpy(&w, in.data() + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  return static_cast<size_t>(h >> 40) % Cache::kSlots;
}

}  // namespace

namespace {

// Hashes one tuple; `one_way` tuples keep the order given (the spec's ICMP
// messages without a counterpart), the others are put in canonical order.
CommunityId tuple_id(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport, uint16_t dport,
                     uint8_t proto, uint16_t seed, bool one_way) {
  const size_t alen = family == 4 ? 4 : 16;
  const uint8_t* sa = saddr16 + (16 - alen);
  const uint8_t* da = daddr16 + (16 - alen);

  // The spec's canonical order: the smaller (address, port) endpoint first,
  // addresses compared as network-order bytes.
  int cmp = std::memcmp(sa, da, alen);
  if (!one_way && (cmp > 0 || (cmp == 0 && sport > dport))) {
    std::swap(sa, da);
    std::swap(sport, dport);
  }

  Input in{};
  size_t n = 0;
  put16(in.data() + n, seed);
  n += 2;
  std::memcpy(in.data() + n, sa, alen);
  n += alen;
  std::memcpy(in.data() + n, da, alen);
  n += alen;
  in[n++] = proto;
  in[n++] = 0;
  put16(in.data() + n, sport);
  n += 2;
  put16(in.data() + n, dport);
  n += 2;

  thread_local std::unique_ptr<Cache> cache = std::make_unique<Cache>();
  Cache::Slot& slot = cache->slots[slot_of(in)];
  // The length is part of the key: a v4 and a v6 input may share a prefix.
  if (slot.n == n && slot.in == in) return slot.id;
  CommunityId id = compute(in, n);
  if (id.len != 0) {
    slot.in = in;
    slot.n = static_cast<uint8_t>(n);
    slot.id = id;
  }
  return id;
}

// The spec's request/response pairs (community-id.py, after Zeek's
// ICMP4_counterpart / ICMP6_counterpart); -1: no counterpart, one-way.
int icmp_counterpart(uint8_t family, uint8_t type) {
  if (family == 4) {
    switch (type) {
      case 8:
        return 0;  // echo request -> reply
      case 0:
        return 8;
      case 13:
        return 14;  // timestamp
      case 14:
        return 13;
      case 15:
        return 16;  // information
      case 16:
        return 15;
      case 10:
        return 9;  // router solicitation -> advertisement
      case 9:
        return 10;
      case 17:
        return 18;  // address mask
      case 18:
        return 17;
      default:
        return -1;
    }
  }
  switch (type) {
    case 128:
      return 129;  // echo request -> reply
    case 129:
      return 128;
    case 133:
      return 134;  // router solicitation -> advertisement
    case 134:
      return 133;
    case 135:
      return 136;  // neighbour solicitation -> advertisement
    case 136:
      return 135;
    case 130:
      return 131;  // multicast listener query -> report
    case 131:
      return 130;
    case 139:
      return 140;  // node information query -> reply
    case 140:
      return 139;
    default:
      return -1;
  }
}

}  // namespace

CommunityId community_id_v1_fixed(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport,
                                  uint16_t dport, uint8_t proto, uint16_t seed) {
  return tuple_id(family, saddr16, daddr16, sport, dport, proto, seed, false);
}

CommunityId community_id_v1_icmp_fixed(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint8_t type,
                                       uint8_t code, uint16_t seed) {
  uint8_t proto = family == 4 ? 1 : 58;
  int peer = icmp_counterpart(family, type);
  if (peer < 0) return tuple_id(family, saddr16, daddr16, type, code, proto, seed, true);
  return tuple_id(family, saddr16, daddr16, type, static_cast<uint16_t>(peer), proto, seed, false);
}

std::string community_id_v1_icmp(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint8_t type,
                                 uint8_t code, uint16_t seed) {
  return std::string(community_id_v1_icmp_fixed(family, saddr16, daddr16, type, code, seed).view());
}

std::string community_id_v1(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport,
                            uint16_t dport, uint8_t proto, uint16_t seed) {
  return std::string(community_id_v1_fixed(family, saddr16, daddr16, sport, dport, proto, seed).view());
}

}  // namespace rsthop::output
