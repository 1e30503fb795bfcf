#include "sip_front.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <mutex>
#include <vector>

namespace switchboard::adapters::phone {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using router::ErrorCode;

constexpr char kAllow[] = "INVITE, ACK, CANCEL, BYE, OPTIONS";
// Timer G fires this late at most: one wake-up for the answers of many INVITEs rather
// than one each, at thousands a second. RFC 3261's T1 is 500 ms.
constexpr auto kRetransmitSlack = std::chrono::milliseconds(20);

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

// Takes the entries of `due` (transaction keys, in due order) whose time came, and
// hands `act` each of their transactions that is still there.
template <typename Transactions, typename Act>
void take_due(std::deque<std::pair<Clock::time_point, std::string>>& due, Transactions& transactions, Act act) {
  const auto now = Clock::now();
  while (!due.empty() && due.front().first <= now) {
    auto it = transactions.find(due.front().second);
    due.pop_front();
    if (it != transactions.end()) act(it);
  }
}

}  // namespace

// One INVITE server transaction (RFC 3261 17.2.1), kept until it expires so that
// retransmissions and the ACK find it: what its answers repeat of the INVITE, not the
// whole request.
struct SipFront::Transaction {
  SipEcho echo;
  std::string call_id;
  SipPeer peer;
  std::string to_tag;
  std::string last_response;  // nothing, or 100 Trying, until the final answer
  bool routing = true;        // route_call has not answered yet
  bool final = false;
  bool acked = false;
  bool canceled = false;
  std::chrono::milliseconds retransmit_interval{0};
};

struct SipFront::AtomicCounters {
  std::atomic<uint64_t> requests{0}, malformed{0}, invites_routed{0}, retransmissions_absorbed{0}, rate_limited{0},
      overloaded{0}, canceled{0};
};

// Shared with route_call's answers, which come on the router's threads and may come
// after the front closed. Answers that arrive while the io thread is busy wait here and
// are taken together: one hand-off back for many calls.
class SipFront::Lifeline : public std::enable_shared_from_this<Lifeline> {
 public:
  explicit Lifeline(SipFront* front) : front_(front) {}
  void post(std::string key, router::Result<router::CallRouting> routed) {
    std::lock_guard lock(mutex_);
    if (front_ == nullptr) return;
    waiting_.emplace_back(std::move(key), std::move(routed));
    if (waiting_.size() == 1) asio::post(front_->io_, [self = shared_from_this()] { self->drain(); });
  }
  void cut() {
    std::lock_guard lock(mutex_);
    front_ = nullptr;
  }

 private:
  using Answer = std::pair<std::string, router::Result<router::CallRouting>>;

  // On the io thread, like cut() once the front runs: front_ cannot go away meanwhile.
  void drain() {
    SipFront* front = nullptr;
    {
      std::lock_guard lock(mutex_);
      front = front_;
      taken_.swap(waiting_);  // both keep their capacity: no allocation once warm
    }
    if (front != nullptr) {
      for (auto& [key, routed] : taken_) front->on_routed(key, std::move(routed));
    }
    taken_.clear();
  }

  std::mutex mutex_;
  SipFront* front_;
  std::vector<Answer> waiting_;  // under mutex_
  std::vector<Answer> taken_;    // the io thread's
};

SipFront::SipFront(SipSettings settings, PeerFilter trusted, router::AdapterHost& host, asio::io_context& io)
    : settings_(std::move(settings)),
      trusted_(std::move(trusted)),
      host_(host),
      io_(io),
      sweep_timer_(io),
      retransmit_timer_(io),
      trying_timer_(io),
      lifeline_(std::make_shared<Lifeline>(this)),
      counters_(std::make_unique<AtomicCounters>()) {
  // Room for 64k transactions from the start (512 KiB of buckets): growing to them
  // rehashes every node each time, milliseconds on the io thread at tens of thousands.
  transactions_.reserve(std::min<std::size_t>(settings_.max_transactions, std::size_t{1} << 16));
  arm_sweep();
}

SipFront::~SipFront() { close(); }

void SipFront::close() {
  lifeline_->cut();
  sweep_timer_.cancel();
  retransmit_timer_.cancel();
  trying_timer_.cancel();
}

SipCounters SipFront::counters() const {
  const auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  const AtomicCounters& c = *counters_;
  return {get(c.requests),     get(c.malformed),  get(c.invites_routed), get(c.retransmissions_absorbed),
          get(c.rate_limited), get(c.overloaded), get(c.canceled)};
}

#define SIP_COUNT(field) counters_->field.fetch_add(1, std::memory_order_relaxed)

void SipFront::receive(std::string_view text, const SipPeer& peer) {
  SIP_COUNT(requests);
  if (text.size() > settings_.max_message_bytes) {
    SIP_COUNT(malformed);
    if (auto r = make_bare_response(text, 513, "Message Too Large"); !r.empty()) peer.send(std::move(r));
    return;
  }
  if (text.starts_with("SIP/2.0 ")) return;  // a response: a redirect server sends no requests
  if (request_method(text) == "ACK") {
    // One for every call answered over UDP: found by its top Via, not parsed whole.
    if (const std::string key = ack_transaction_key(text); !key.empty()) return on_ack(key);
  }
  auto parsed = parse_request(text, peer.address.to_string(), peer.port);
  if (!parsed) {
    // Bad input: a 400 naming what is wrong, and no transaction, no call.
    SIP_COUNT(malformed);
    const std::string why = parsed.error().field + ": " + parsed.error().message;
    if (request_method(text) == "ACK") return;  // never answered (RFC 3261 17.2.1)
    auto r =
        make_bare_response(text, 400, "Bad Request", {{"Warning", "399 " + settings_.hostname + " " + quoted(why)}});
    if (!r.empty()) peer.send(std::move(r));
    return;
  }
  SipRequest& request = *parsed;
  if (request.method == "INVITE") return on_invite(request, peer);
  if (request.method == "ACK") return on_ack(request.transaction_key());
  if (request.method == "CANCEL") return on_cancel(request, peer);
  if (request.method == "BYE") return on_bye(request, peer);
  if (request.method == "OPTIONS") {
    // Keep-alive pings from the PBX: we are here and what we take.
    return peer.send(make_response(request, 200, "OK", "ka", {{"Allow", kAllow}}));
  }
  peer.send(make_response(request, 405, "Method Not Allowed", "na", {{"Allow", kAllow}}));
}

// Per-source rate and the global bounds; false answers 503 Retry-After.
bool SipFront::admit_invite(const SipPeer& peer) {
  const auto now = Clock::now();
  auto bucket = buckets_.find(peer.address);
  if (bucket == buckets_.end()) {
    if (buckets_.size() >= settings_.max_sources) sweep();
    if (buckets_.size() >= settings_.max_sources) {
      SIP_COUNT(overloaded);
      return false;
    }
    bucket = buckets_
                 .emplace(peer.address, chat::TokenBucket(settings_.invites_per_second_per_source,
                                                          settings_.invite_burst_per_source, now))
                 .first;
  }
  if (!bucket->second.take(now)) {
    SIP_COUNT(rate_limited);
    return false;
  }
  if (in_flight_ >= settings_.max_in_flight || transactions_.size() >= settings_.max_transactions) {
    SIP_COUNT(overloaded);
    return false;
  }
  return true;
}

void SipFront::on_invite(SipRequest& request, const SipPeer& peer) {
  std::string key = request.transaction_key();
  if (auto known = transactions_.find(key); known != transactions_.end()) {
    // A retransmission: the same answer again, and nothing else (RFC 3261 17.2.1);
    // the caller is waiting long enough to repeat itself, so a 100 Trying if none went.
    SIP_COUNT(retransmissions_absorbed);
    Transaction& t = known->second;
    if (t.last_response.empty()) return send_trying(t);
    return peer.send(t.last_response);
  }
  if (!admit_invite(peer)) {
    const std::string retry = std::to_string(settings_.retry_after_seconds);
    return peer.send(make_response(request, 503, "Service Unavailable", "ol", {{"Retry-After", retry}}));
  }
  // The caller: P-Asserted-Identity only from a peer we trust to have checked it.
  const bool asserted = !request.asserted.user.empty() && trusted_.allows(peer.address);
  const SipAddress& caller = asserted ? request.asserted : request.from;
  if (caller.user.empty() || caller.user == "anonymous" || caller.host == "anonymous.invalid") {
    return peer.send(make_response(request, 433, "Anonymity Disallowed", "an",
                                   {{"Warning", "399 " + settings_.hostname + " \"calls need a caller number\""}}));
  }

  char tag[24] = "sb";
  const auto tag_end = std::to_chars(tag + 2, tag + sizeof tag, ++next_tag_, 16).ptr;
  router::InboundCall call;
  call.address = caller.user;
  call.call_id = request.call_id;
  call.display_name = asserted ? request.asserted.display_name : request.from.display_name;
  if (call.display_name.empty()) call.display_name = request.from.display_name;
  call.verified = asserted;
  call.queue = settings_.queue;
  if (!request.request_uri.user.empty()) call.metadata["dialed"] = request.request_uri.user;

  auto [placed, _] = transactions_.emplace(
      key, Transaction{std::move(request.echo), std::move(request.call_id), peer, std::string(tag, tag_end)});
  const auto now = Clock::now();
  expiry_.emplace_back(now + settings_.transaction_ttl, key);
  ++in_flight_;
  if (settings_.trying_after.count() == 0) {
    send_trying(placed->second);
  } else {
    trying_.emplace_back(now + settings_.trying_after, key);
    arm_trying();
  }

  host_.route_call(std::move(call),
                   [lifeline = lifeline_, key = std::move(key)](router::Result<router::CallRouting> routed) mutable {
                     lifeline->post(std::move(key), std::move(routed));
                   });
}

void SipFront::on_routed(const std::string& key, router::Result<router::CallRouting> routed) {
  auto it = transactions_.find(key);
  if (it == transactions_.end()) return;  // expired meanwhile (a very slow store)
  Transaction& t = it->second;
  t.routing = false;
  --in_flight_;
  const std::string& host = settings_.hostname;
  if (!routed) {
    const router::Error& e = routed.error();
    if (t.canceled) return;
    if (e.code == ErrorCode::kUnavailable) {
      return answer(t, key,
                    make_response(t.echo, 503, "Service Unavailable", t.to_tag,
                                  {{"Retry-After", std::to_string(settings_.retry_after_seconds)}}));
    }
    const int code = e.code == ErrorCode::kInvalidArgument ? 403 : 500;
    spdlog::info("phone: INVITE {} refused: {}", t.call_id, e.describe());
    return answer(t, key,
                  make_response(t.echo, code, code == 403 ? "Forbidden" : "Server Internal Error", t.to_tag,
                                {{"Warning", "399 " + host + " " + quoted(e.describe())}}));
  }
  SIP_COUNT(invites_routed);
  const router::CallRouting& r = *routed;
  if (t.canceled) {
    // The caller hung up before we answered: the call is a missed one.
    if (!r.agent_id.empty()) {
      host_.update_call({.call_id = t.call_id, .state = router::CallState::kMissed, .reason = "canceled"}, [](auto) {});
    }
    return;
  }
  if (!r.agent_id.empty() && !r.agent_sip_uri.empty()) {
    return answer(
        t, key, make_response(t.echo, 302, "Moved Temporarily", t.to_tag, {{"Contact", "<" + r.agent_sip_uri + ">"}}));
  }
  if (!r.agent_id.empty()) {
    // Routed to someone we cannot point the PBX at: a failed call, said so.
    host_.update_call({.call_id = t.call_id, .state = router::CallState::kMissed, .reason = "failed"}, [](auto) {});
    return answer(t, key,
                  make_response(t.echo, 480, "Temporarily Unavailable", t.to_tag,
                                {{"Warning", "399 " + host + " \"agent " + r.agent_id + " has no sip_uri\""}}));
  }
  const bool busy = r.reason == "busy";
  answer(t, key,
         make_response(t.echo, busy ? 486 : 480, busy ? "Busy Here" : "Temporarily Unavailable", t.to_tag,
                       {{"Reason", "SIP;cause=" + std::string(busy ? "486" : "480") + ";text=" + quoted(r.reason)},
                        {"Warning", "399 " + host + " " +
                                        quoted(busy ? "every agent who takes calls is busy; we will call back"
                                                    : "no agent is available; we will call back")},
                        {"Retry-After", std::to_string(settings_.retry_after_seconds)}}));
}

void SipFront::answer(Transaction& t, const std::string& key, std::string response) {
  t.final = true;
  t.last_response = std::move(response);
  t.peer.send(t.last_response);
  if (!t.peer.reliable) {
    t.retransmit_interval = settings_.t1;
    retransmits_.emplace(Clock::now() + t.retransmit_interval, key);
    arm_retransmit();
  }
}

void SipFront::on_ack(const std::string& key) {
  auto it = transactions_.find(key);
  if (it == transactions_.end() || !it->second.final) return;
  Transaction& t = it->second;
  t.acked = true;  // absorbed: ends Timer G
  // Confirmed (RFC 3261 17.2.1): nothing will be answered again, so what answers
  // repeat goes now rather than at expiry; the Call-ID stays for a late route_call
  // answer. At thousands of calls a second that is most of the transactions' memory.
  std::string().swap(t.last_response);
  std::string().swap(t.echo.lines);
}

void SipFront::on_cancel(const SipRequest& request, const SipPeer& peer) {
  const std::string key = request.transaction_key();
  auto it = transactions_.find(key);
  if (it == transactions_.end()) {
    return peer.send(make_response(request, 481, "Call/Transaction Does Not Exist", "nx"));
  }
  Transaction& t = it->second;
  peer.send(make_response(request, 200, "OK", t.to_tag));
  if (t.final) return;  // too late: the INVITE has its answer (RFC 3261 9.2)
  SIP_COUNT(canceled);
  t.canceled = true;
  answer(t, key, make_response(t.echo, 487, "Request Terminated", t.to_tag));
}

void SipFront::on_bye(const SipRequest& request, const SipPeer& peer) {
  peer.send(make_response(request, 200, "OK", "bye"));
  // A BYE proves the call was connected: answered, then ended. Unknown calls (not
  // routed here) and repeats change nothing.
  const std::string call_id = request.call_id;
  host_.update_call({.call_id = call_id, .state = router::CallState::kInProgress},
                    [&host = host_, call_id](router::Result<router::IngestResult> answered) {
                      if (!answered && answered.error().code == ErrorCode::kNotFound) return;
                      host.update_call({.call_id = call_id, .state = router::CallState::kEnded}, [](auto) {});
                    });
}

// --- timers -------------------------------------------------------------------------

// Re-armed only when the first retransmission moved earlier than the timer is set for:
// each re-arm cancels a wait, which costs a handler of its own.
void SipFront::arm_retransmit() {
  if (retransmits_.empty()) return;
  const auto first = retransmits_.begin()->first + kRetransmitSlack;
  if (retransmit_armed_ && retransmit_deadline_ <= first) return;
  retransmit_armed_ = true;
  retransmit_deadline_ = first;
  retransmit_timer_.expires_at(first);
  retransmit_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed earlier, or closed
    retransmit_armed_ = false;
    retransmit_due();
  });
}

void SipFront::retransmit_due() {
  const auto now = Clock::now();
  while (!retransmits_.empty() && retransmits_.begin()->first <= now) {
    auto due = retransmits_.extract(retransmits_.begin());
    auto it = transactions_.find(due.mapped());
    if (it == transactions_.end() || it->second.acked) continue;
    Transaction& t = it->second;
    t.peer.send(t.last_response);
    t.retransmit_interval = std::min(t.retransmit_interval * 2, settings_.t2);
    due.key() = now + t.retransmit_interval;
    retransmits_.insert(std::move(due));
  }
  arm_retransmit();
}

// One wait at a time, for the oldest INVITE: they all wait the same `trying_after`.
void SipFront::arm_trying() {
  if (trying_armed_ || trying_.empty()) return;
  trying_armed_ = true;
  trying_timer_.expires_at(trying_.front().first);
  trying_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // closed
    trying_armed_ = false;
    trying_due();
  });
}

void SipFront::trying_due() {
  take_due(trying_, transactions_, [this](auto it) { send_trying(it->second); });
  arm_trying();
}

void SipFront::send_trying(Transaction& t) {
  if (!t.routing || t.final || !t.last_response.empty()) return;
  t.last_response = make_response(t.echo, 100, "Trying", {});
  t.peer.send(t.last_response);  // stops the caller's retransmissions (RFC 3261 17.2.1)
}

void SipFront::arm_sweep() {
  sweep_timer_.expires_after(std::min<Clock::duration>(settings_.transaction_ttl / 4, std::chrono::seconds(1)));
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    sweep();
    arm_sweep();
  });
}

// Forgets expired transactions (Timer H/J) and idle rate buckets.
void SipFront::sweep() {
  take_due(expiry_, transactions_, [this](auto it) {
    if (it->second.routing) --in_flight_;  // its answer, if it ever comes, finds nothing
    transactions_.erase(it);
  });
  const auto now = Clock::now();
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = it->second.full(now) ? buckets_.erase(it) : std::next(it);  // idle: as good as new
  }
}

}  // namespace switchboard::adapters::phone
