#include "community_id.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace rsthop::output {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v & 0xff);
}

}  // namespace

std::string community_id_v1(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport,
                            uint16_t dport, uint8_t proto, uint16_t seed) {
  const size_t alen = family == 4 ? 4 : 16;
  const uint8_t* sa = saddr16 + (16 - alen);
  const uint8_t* da = daddr16 + (16 - alen);

  // The spec's canonical order: the smaller (address, port) endpoint first,
  // addresses compared as network-order bytes.
  int cmp = std::memcmp(sa, da, alen);
  if (cmp > 0 || (cmp == 0 && sport > dport)) {
    std::swap(sa, da);
    std::swap(sport, dport);
  }

  // seed(2) . saddr . daddr . proto(1) . pad(1) . sport(2) . dport(2)
  uint8_t buf[2 + 16 + 16 + 2 + 4];
  size_t n = 0;
  put16(buf + n, seed);
  n += 2;
  std::memcpy(buf + n, sa, alen);
  n += alen;
  std::memcpy(buf + n, da, alen);
  n += alen;
  buf[n++] = proto;
  buf[n++] = 0;
  put16(buf + n, sport);
  n += 2;
  put16(buf + n, dport);
  n += 2;

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), buf, n) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &dlen) != 1) {
    return {};
  }

  // EVP_EncodeBlock writes 4 bytes per 3 input bytes plus a NUL.
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int blen = EVP_EncodeBlock(b64, digest, static_cast<int>(dlen));
  if (blen <= 0) return {};
  return "1:" + std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(blen));
}

}  // namespace rsthop::output
