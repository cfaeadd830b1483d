#include "kernel/flow_tables.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/random.h>

#include <cstring>

#include "bpf/flow_key.h"
#include "kernel/skeleton.h"

namespace rsthop::kernel {

namespace {

constexpr uint32_t kBatch = 1024;  // slots read per syscall when walking flow_slots

// Each slot of flow_slots, in batches; `fn(index, slot)`.
template <typename Fn>
void for_each_slot(const rsthop_bpf& s, Fn&& fn) {
  const int fd = bpf_map__fd(s.maps.flow_slots);
  std::vector<uint32_t> keys(kBatch);
  std::vector<rh_flow_slot> slots(kBatch);
  uint32_t batch = 0;
  bool first = true;
  for (;;) {
    uint32_t count = kBatch;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &batch, &batch, keys.data(), slots.data(), &count, nullptr);
    for (uint32_t i = 0; i < count; i++) fn(keys[i], slots[i]);
    if (err) return;  // ENOENT: the last batch (any other error: nothing more to read)
    first = false;
  }
}

// Every key of an LRU table, `fn(key)`; `K` its key type.
template <typename K, typename Fn>
void for_each_key(int fd, Fn&& fn) {
  K key, next;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    fn(next);
    key = next;
    prev = &key;
  }
}

}  // namespace

void size_flow_tables(rsthop_bpf* s, uint32_t max_flows, uint64_t slot_seed) {
  s->rodata->cfg_flow_slots = max_flows;
  s->rodata->cfg_slot_seed = slot_seed;
  bpf_map__set_max_entries(s->maps.flow_slots, max_flows);
  bpf_map__set_max_entries(s->maps.flows4, max_flows);
  bpf_map__set_max_entries(s->maps.flows, max_flows);
}

uint64_t random_slot_seed() {
  uint64_t seed = 0;
  ssize_t got = -1;
  for (int tries = 0; got < 0 && tries < 8; tries++) got = getrandom(&seed, sizeof(seed), 0);  // EINTR: again
  return seed;  // getrandom cannot otherwise fail for 8 bytes once the pool is up; 0 still hashes
}

std::optional<rh_flow_state> flow_lookup(const rsthop_bpf& s, const rh_flow_key& k) {
  rh_flow_state st{};
  if (k.family != 4) {
    if (bpf_map_lookup_elem(bpf_map__fd(s.maps.flows), &k, &st) != 0) return std::nullopt;
    return st;
  }
  rh_flow_key4 k4;
  rh_flow_key4_make(&k4, &k);
  uint32_t idx = rh_flow_slot_of(&k4, s.rodata->cfg_flow_slots, s.rodata->cfg_slot_seed);
  rh_flow_slot slot{};
  if (bpf_map_lookup_elem(bpf_map__fd(s.maps.flow_slots), &idx, &slot) == 0 && rh_flow_slot_holds(&slot, &k4))
    return slot.st;
  if (bpf_map_lookup_elem(bpf_map__fd(s.maps.flows4), &k4, &st) != 0) return std::nullopt;
  return st;
}

std::vector<rh_flow_key> flow_keys(const rsthop_bpf& s) {
  std::vector<rh_flow_key> keys;
  for_each_slot(s, [&keys](uint32_t, const rh_flow_slot& slot) {
    if (slot.live == RH_SLOT_LIVE) rh_flow_key4_expand(&keys.emplace_back(), &slot.key);
  });
  for_each_key<rh_flow_key4>(bpf_map__fd(s.maps.flows4),
                             [&keys](const rh_flow_key4& k4) { rh_flow_key4_expand(&keys.emplace_back(), &k4); });
  for_each_key<rh_flow_key>(bpf_map__fd(s.maps.flows), [&keys](const rh_flow_key& k) { keys.push_back(k); });
  return keys;
}

void flow_clear(const rsthop_bpf& s) {
  const int slots_fd = bpf_map__fd(s.maps.flow_slots);
  const rh_flow_slot empty{};
  for_each_slot(s, [slots_fd, &empty](uint32_t idx, const rh_flow_slot& slot) {
    if (slot.live != RH_SLOT_EMPTY) bpf_map_update_elem(slots_fd, &idx, &empty, BPF_ANY);
  });
  std::vector<rh_flow_key4> v4;
  for_each_key<rh_flow_key4>(bpf_map__fd(s.maps.flows4), [&v4](const rh_flow_key4& k4) { v4.push_back(k4); });
  for (const rh_flow_key4& k4 : v4) bpf_map_delete_elem(bpf_map__fd(s.maps.flows4), &k4);
  std::vector<rh_flow_key> v6;
  for_each_key<rh_flow_key>(bpf_map__fd(s.maps.flows), [&v6](const rh_flow_key& k) { v6.push_back(k); });
  for (const rh_flow_key& k : v6) bpf_map_delete_elem(bpf_map__fd(s.maps.flows), &k);
}

}  // namespace rsthop::kernel
