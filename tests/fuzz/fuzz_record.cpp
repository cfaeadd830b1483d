// fuzz_record: rh_record_decode() (bpf/record.h) on arbitrary ring-buffer
// records.  The record sits in an exact-size, 16-aligned heap copy (ring
// buffer records are 8-aligned), so ASan catches any read past its end.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "bpf/flow_key.h"
#include "bpf/record.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> rec(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(rec.get(), data, size);

  rh_event ev;
  std::memset(&ev, 0xa5, sizeof(ev));
  const __u8* d = reinterpret_cast<const __u8*>(1);
  size_t dlen = 12345;
  int r = rh_record_decode(rec.get(), size, &ev, &d, &dlen);
  FUZZ_CHECK(r == 0 || r == -1);
  if (r < 0) return 0;
  FUZZ_CHECK(size >= RH_REC_SIZE_BASE);
  if (ev.kind == RH_EV_PAYLOAD) {
    FUZZ_CHECK(size >= sizeof(rh_data_event));
    FUZZ_CHECK(d == rec.get() + RH_REC_SIZE_BASE);
    FUZZ_CHECK(dlen <= RH_DATA_SNAP_MAX && dlen <= ev.snap_len);
    FUZZ_CHECK(d + dlen <= rec.get() + size);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < dlen; i++) sink = sink ^ d[i];  // touch every byte handed out
    (void)sink;
  } else {
    FUZZ_CHECK(d == nullptr && dlen == 0);
    FUZZ_CHECK(ev.snap_len <= RH_RST_PAYLOAD_MAX);
    if (ev.kind != RH_EV_RST) FUZZ_CHECK(ev.snap_len == 0);
  }
  // The decoded event starts with the record's header...
  FUZZ_CHECK(std::memcmp(&ev, rec.get(), RH_REC_HEAD_SIZE) == 0);
  // ... its flow is all zero when the record says it has none (never what the buffer held)...
  if (!(ev.flow_flags & RH_FLOW_STATE)) {
    static const rh_flow_state zero{};
    FUZZ_CHECK(std::memcmp(&ev.flow, &zero, sizeof(zero)) == 0);
  }
  // ... and the key is the canonical one of its tuple.
  rh_flow_key k;
  if (ev.kind == RH_EV_ICMP)
    rh_flow_key_make(&k, ev.family, ev.inner_saddr, ev.inner_sport, ev.inner_daddr, ev.inner_dport);
  else
    rh_flow_key_make(&k, ev.family, ev.saddr, ev.sport, ev.daddr, ev.dport);
  FUZZ_CHECK(std::memcmp(&k, &ev.key, sizeof(k)) == 0);
  FUZZ_CHECK(rh_addr_cmp(k.addr_a, k.addr_b) < 0 || (rh_addr_cmp(k.addr_a, k.addr_b) == 0 && k.port_a <= k.port_b));
  return 0;
}
