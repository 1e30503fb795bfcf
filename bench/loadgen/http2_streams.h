#pragma once

// Subscribe streams read by a lean HTTP/2 client (nghttp2) instead of gRPC's own.
// gRPC's C++ client spends about 10 µs of CPU per message it reads (its call stack per
// read, the completion queue, a callback), as much as the server spends writing it;
// on a machine whose two cores client and server share, that is half of the fan-out's
// latency. This client sends the same request (POST /switchboard.v1.EventService/
// Subscribe, a length-prefixed SubscribeRequest, the bearer key) and reads the same
// length-prefixed v1.Event messages and the grpc-status trailer, nothing more: no
// retries, no compression, no TLS.

#include <memory>
#include <string>

#include "subscribers.h"

namespace switchboard::loadgen {

// Opens `count` EventService.Subscribe streams (message events only) over
// `connections` TCP connections to `target` (HOST:PORT), stream i on connection
// i % connections, each connection read by a thread of its own. Arrivals and ends go
// to `sink`. Throws std::runtime_error when a connection cannot be made.
std::unique_ptr<StreamSet> open_http2_streams(const std::string& target, const std::string& key, unsigned connections,
                                              unsigned count, Subscribers& sink);

}  // namespace switchboard::loadgen
