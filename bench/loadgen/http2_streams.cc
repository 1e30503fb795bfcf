#include "http2_streams.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "switchboard/v1/events.pb.h"

namespace switchboard::loadgen {
namespace {

constexpr std::string_view kPath = "/switchboard.v1.EventService/Subscribe";
// gRPC's message framing: a compressed flag, then the length, big-endian.
constexpr std::size_t kPrefix = 5;
// The window the server may fill before it waits for a WINDOW_UPDATE, per stream and
// for the connection: large enough that no burst of a run ever waits for one.
constexpr int32_t kWindow = 1 << 24;

// "Length-prefixed-Message" of the gRPC over HTTP/2 protocol, uncompressed.
std::string framed(const std::string& message) {
  std::string out(kPrefix, '\0');
  const auto size = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>(size >> (24 - 8 * i));
  return out + message;
}

uint32_t prefix_length(std::string_view bytes) {
  uint32_t n = 0;
  for (std::size_t i = 1; i < kPrefix; ++i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  return n;
}

int connect_to(const std::string& target) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--target '" + target + "' is not HOST:PORT");
  const std::string host = target.substr(0, colon);
  const std::string port = target.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); error != 0) {
    throw std::runtime_error("cannot resolve " + target + ": " + gai_strerror(error));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) throw std::runtime_error("cannot connect to " + target);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One Subscribe call, touched only by its connection's thread.
struct Stream {
  unsigned index = 0;       // the Subscribers' stream number
  std::size_t sent = 0;     // bytes of the request body handed to nghttp2
  std::string partial;      // a message split across DATA frames
  std::optional<int> code;  // grpc-status, once the trailers came
  std::string message;      // grpc-message
  bool ended = false;
};

// One TCP connection and its streams, read by a thread of its own.
class Connection {
 public:
  Connection(const std::string& target, const std::string& key, const std::string& body, Subscribers& sink)
      : fd_(connect_to(target)),
        authority_(target),
        authorization_(key.empty() ? "" : "Bearer " + key),
        body_(body),
        sink_(sink) {}

  ~Connection() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }

  void add(unsigned index) { streams_.push_back(Stream{.index = index}); }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // Ends the streams: the thread's read sees the connection close.
  void cancel() {
    cancelled_ = true;
    shutdown(fd_, SHUT_RDWR);
  }

 private:
  void run();
  bool open_session();
  bool flush();
  void end(Stream& stream, const grpc::Status& status);
  void end_the_rest(const grpc::Status& status);
  static Connection& self(void* user) { return *static_cast<Connection*>(user); }
  static Stream* stream_of(nghttp2_session* session, int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void* user);
  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void*);
  static int on_data(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user);
  static int on_close(nghttp2_session* session, int32_t id, uint32_t error, void* user);

  void read_messages(Stream& stream, std::string_view data);

  const int fd_;
  const std::string authority_;
  const std::string authorization_;
  const std::string& body_;
  Subscribers& sink_;
  std::vector<Stream> streams_;  // fixed before start(): nghttp2 holds pointers into it
  nghttp2_session* session_ = nullptr;
  std::atomic<bool> cancelled_{false};
  std::thread thread_;
};

ssize_t Connection::read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                              nghttp2_data_source* source, void* user) {
  auto& stream = *static_cast<Stream*>(source->ptr);
  const std::string& body = self(user).body_;
  const std::size_t n = std::min(length, body.size() - stream.sent);
  std::copy_n(body.data() + stream.sent, n, buf);
  stream.sent += n;
  if (stream.sent == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// The status comes in the trailers, or alone in the first HEADERS when the server
// refuses the call at once.
int Connection::on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                          const uint8_t* value, size_t valuelen, uint8_t, void*) {
  Stream* stream = frame->hd.type == NGHTTP2_HEADERS ? stream_of(session, frame->hd.stream_id) : nullptr;
  if (stream == nullptr) return 0;
  const std::string_view key(reinterpret_cast<const char*>(name), namelen);
  const std::string_view text(reinterpret_cast<const char*>(value), valuelen);
  if (key == "grpc-status") {
    int code = 0;
    std::from_chars(text.data(), text.data() + text.size(), code);
    stream->code = code;
  } else if (key == "grpc-message") {
    stream->message = text;
  }
  return 0;
}

int Connection::on_data(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
  if (Stream* stream = stream_of(session, id)) {
    self(user).read_messages(*stream, std::string_view(reinterpret_cast<const char*>(data), len));
  }
  return 0;
}

// Whole messages straight from the frame; only a message cut by a frame's end is
// copied, to be completed by the next.
void Connection::read_messages(Stream& stream, std::string_view data) {
  if (!stream.partial.empty()) {
    stream.partial.append(data);
    data = stream.partial;
  }
  std::size_t used = 0;
  while (data.size() - used >= kPrefix) {
    const std::size_t size = prefix_length(data.substr(used));
    if (data.size() - used - kPrefix < size) break;
    sink_.received(data.substr(used + kPrefix, size), stream.index);
    used += kPrefix + size;
  }
  stream.partial = std::string(data.substr(used));
}

int Connection::on_close(nghttp2_session* session, int32_t id, uint32_t error, void* user) {
  Stream* stream = stream_of(session, id);
  if (stream == nullptr) return 0;
  self(user).end(
      *stream, stream->code ? grpc::Status(static_cast<grpc::StatusCode>(*stream->code), stream->message)
                            : grpc::Status(grpc::StatusCode::INTERNAL, std::string("stream closed without a status (") +
                                                                           nghttp2_http2_strerror(error) + ")"));
  return 0;
}

// Each stream reports its end once: when the server closes it, or when the connection
// ends under it (end_the_rest).
void Connection::end(Stream& stream, const grpc::Status& status) {
  if (stream.ended) return;
  stream.ended = true;
  sink_.ended(status);
}

bool Connection::open_session() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);
  const int made = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (made != 0) return false;
  const std::array<nghttp2_settings_entry, 2> settings = {
      {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow}}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
  auto header = [](std::string_view name, std::string_view value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                      NGHTTP2_NV_FLAG_NONE};
  };
  const std::array<nghttp2_nv, 7> headers = {header(":method", "POST"),
                                             header(":scheme", "http"),
                                             header(":path", kPath),
                                             header(":authority", authority_),
                                             header("te", "trailers"),
                                             header("content-type", "application/grpc"),
                                             header("authorization", authorization_)};
  // As add_key(): no key, no authorization header.
  const std::size_t sent_headers = authorization_.empty() ? headers.size() - 1 : headers.size();
  for (Stream& stream : streams_) {
    nghttp2_data_provider body{};
    body.source.ptr = &stream;
    body.read_callback = read_body;
    if (nghttp2_submit_request(session_, nullptr, headers.data(), sent_headers, &body, &stream) < 0) return false;
  }
  return true;
}

bool Connection::flush() {
  const uint8_t* data = nullptr;
  for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) != 0;) {
    if (n < 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t k = send(fd_, data + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (k <= 0) return false;
      sent += k;
    }
  }
  return true;
}

void Connection::end_the_rest(const grpc::Status& status) {
  for (Stream& stream : streams_) end(stream, status);
}

void Connection::run() {
  std::array<uint8_t, 1 << 16> buffer;
  if (open_session()) {
    while (flush() && (nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0)) {
      const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0 || nghttp2_session_mem_recv(session_, buffer.data(), static_cast<size_t>(n)) < 0) break;
    }
  }
  end_the_rest(cancelled_ ? grpc::Status::CANCELLED
                          : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the connection closed"));
  nghttp2_session_del(session_);
  session_ = nullptr;
}

class Http2Streams final : public StreamSet {
 public:
  Http2Streams(const std::string& target, const std::string& key, unsigned connections, unsigned count,
               Subscribers& sink) {
    v1::SubscribeRequest request;
    request.add_kinds(v1::EVENT_KIND_MESSAGE);
    body_ = framed(request.SerializeAsString());
    for (unsigned i = 0; i < connections; ++i) {
      connections_.push_back(std::make_unique<Connection>(target, key, body_, sink));
    }
    for (unsigned i = 0; i < count; ++i) connections_[i % connections]->add(i);
    for (auto& connection : connections_) connection->start();
  }

  ~Http2Streams() override { cancel(); }

  void cancel() override {
    for (auto& connection : connections_) connection->cancel();
  }

 private:
  std::string body_;  // before the connections, which refer to it
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace

std::unique_ptr<StreamSet> open_http2_streams(const std::string& target, const std::string& key, unsigned connections,
                                              unsigned count, Subscribers& sink) {
  return std::make_unique<Http2Streams>(target, key, connections, count, sink);
}

}  // namespace switchboard::loadgen
