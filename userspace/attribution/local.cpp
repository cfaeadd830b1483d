#include "attribution/local.h"

#include "common/addr.h"

namespace rsthop::attribution {

bool local_firewall_refusal(const flow::ResetRecord& r, const Engine::Options& opt, Verdict& v) {
  const rh_event& rst = r.first.ev;
  if (r.wire_seen || !r.local_receive || rst.kind != RH_EV_LOCAL_RST_RECV) return false;
  // The RECV event carries the socket's state: SYN_SENT means the RST answered its SYN.
  if (rst.reason != RH_TCP_STATE_SYN_SENT) return false;
  const rh_flow_state st = r.flow_state ? *r.flow_state : rst.flow;
  if (st.packets[0] + st.packets[1] > 0 || r.syn || r.synack) return false;  // the SYN did cross the wire
  if (!opt.route_traced || !opt.route_traced(rst.saddr, rst.family)) return false;

  std::string peer = addr_to_string(rst.saddr);
  if (!is_v4mapped(rst.saddr)) peer = "[" + peer + "]";
  peer += ":" + std::to_string(rst.sport);
  v.evidence.push_back({"not_on_wire", "the socket's SYN never crossed the traced interface it routes through",
                        "a SYN to " + peer + " leaves through a traced interface", 0.9});
  v.evidence.push_back({"local_refusal", "a RST accepted in SYN_SENT that no traced interface received",
                        "a remote RST to the SYN arrives through the interface the SYN left by", 0.9});
  v.origin = Origin::local;
  v.hop = 0;
  v.endpoint_hop.reset();
  v.stage = Stage::post_syn;
  v.confidence = 0.9;
  v.summary = "A firewall rule on this host refused the connection before the SYN left (the RST 'from' " + peer +
              " was forged here, e.g. an OUTPUT rule 'reject with tcp reset').";
  return true;
}

}  // namespace rsthop::attribution
