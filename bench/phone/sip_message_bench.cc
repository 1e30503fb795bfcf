// The SIP front's message work per call, apart from sockets and the router: parsing
// the INVITE (libosip2), writing its 100 Trying and its 302, and finding the ACK's
// transaction. CPU time, so a loaded machine changes it less than sip_bench's figures.
//
//   build/bench/phone/sip_message_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <string>

#include "phone/sip_message.h"

namespace {

using namespace switchboard::adapters::phone;

// As sipp's flood.xml sends them (bench/phone/sip_bench.cc).
const std::string kInvite =
    "INVITE sip:support@127.0.0.1:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-12345-1-0\r\n"
    "From: \"Caller\" <sip:+12015551000@127.0.0.1:5061>;tag=12345SIPpTag001\r\n"
    "To: <sip:support@127.0.0.1:5062>\r\n"
    "Call-ID: 1-12345@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:caller@127.0.0.1:5061;transport=UDP>\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n";
const std::string kAck =
    "ACK sip:support@127.0.0.1:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-12345-1-0\r\n"
    "From: \"Caller\" <sip:+12015551000@127.0.0.1:5061>;tag=12345SIPpTag001\r\n"
    "To: <sip:support@127.0.0.1:5062>;tag=sb1\r\n"
    "Call-ID: 1-12345@127.0.0.1\r\n"
    "CSeq: 1 ACK\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n";

void BM_InviteParsedAndAnswered(benchmark::State& state) {
  for (auto _ : state) {
    auto request = parse_request(kInvite, "127.0.0.1", 5061);
    benchmark::DoNotOptimize(make_response(*request, 100, "Trying", {}));
    benchmark::DoNotOptimize(
        make_response(*request, 302, "Moved Temporarily", "sb1", {{"Contact", "<sip:agent-1@pbx.example.org>"}}));
  }
}
BENCHMARK(BM_InviteParsedAndAnswered);

void BM_AckMatched(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ack_transaction_key(kAck));
}
BENCHMARK(BM_AckMatched);

// What the ACK cost before it had a path of its own: the whole parse.
void BM_AckParsedWhole(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_request(kAck, "127.0.0.1", 5061)->transaction_key());
}
BENCHMARK(BM_AckParsedWhole);

}  // namespace

BENCHMARK_MAIN();
