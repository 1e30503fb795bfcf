#include "sip_transport.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>

namespace switchboard::adapters::phone {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

constexpr int kUdpReceiveBuffer = 4 << 20;   // absorbs bursts at thousands of INVITEs a second
constexpr int kBindAttempts = 20;            // port 0: UDP's free port may be taken for TCP
constexpr unsigned kBatch = 32;              // datagrams per recvmmsg / sendmmsg
constexpr int kReadsPerTurn = 8;             // then the router's answers and timers get their turn
constexpr std::size_t kMaxOutgoing = 65536;  // answers queued while the send buffer is full

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The Content-Length of a header section ("l" is its compact form); -1 when bad.
long content_length(std::string_view head) {
  std::size_t at = 0;
  while (at < head.size()) {
    const std::size_t end = std::min(head.find("\r\n", at), head.size());
    const std::string_view line = head.substr(at, end - at);
    at = end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    long n = -1;
    const auto [end_of_number, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end_of_number != value.data() + value.size() || n < 0) return -1;
    return n;
  }
  return 0;
}

}  // namespace

// One TCP connection from a PBX: messages framed by Content-Length, answers written
// back in order. Owned by its pending operations (shared_from_this).
class SipTransport::TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(tcp::socket socket, const SipSettings& settings, SipFront& front, std::shared_ptr<std::size_t> count)
      : socket_(std::move(socket)),
        idle_(socket_.get_executor()),
        settings_(settings),
        front_(front),
        count_(std::move(count)) {
    ++*count_;
  }
  ~TcpConnection() { --*count_; }

  void start() {
    boost::system::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (ec) return;
    peer_.address = remote.address();
    peer_.port = remote.port();
    peer_.reliable = true;
    peer_.stream = [weak = weak_from_this()](std::string response) {
      if (auto self = weak.lock()) self->write(std::move(response));
    };
    read();
  }

 private:
  void read() {
    touch();
    auto self = shared_from_this();
    const std::size_t had = buffer_.size();
    buffer_.resize(had + 4096);
    socket_.async_read_some(asio::buffer(buffer_.data() + had, 4096),
                            [this, self, had](boost::system::error_code ec, std::size_t n) {
                              buffer_.resize(had + n);
                              if (ec) return close();
                              if (!frame()) return close();
                              read();
                            });
  }

  // Hands over every whole message in the buffer; false when the peer broke framing
  // or a bound.
  bool frame() {
    for (;;) {
      const auto start = buffer_.find_first_not_of("\r\n");  // CRLF keep-alives (RFC 5626)
      if (start == std::string::npos) {
        buffer_.clear();
        return true;
      }
      if (start > 0) buffer_.erase(0, start);
      const auto head_end = buffer_.find("\r\n\r\n");
      if (head_end == std::string::npos) return buffer_.size() <= settings_.max_message_bytes;
      const long body = content_length(std::string_view(buffer_).substr(0, head_end + 2));
      const std::size_t total = head_end + 4 + static_cast<std::size_t>(std::max(body, 0L));
      if (body < 0 || total > settings_.max_message_bytes) {
        spdlog::warn("phone: closing SIP/TCP from {}: bad Content-Length or a message over max_message_bytes",
                     peer_.address.to_string());
        return false;
      }
      if (buffer_.size() < total) return true;
      front_.receive(std::string_view(buffer_).substr(0, total), peer_);
      buffer_.erase(0, total);
    }
  }

  void write(std::string response) {
    out_.push_back(std::move(response));
    if (out_.size() == 1) write_next();
  }
  void write_next() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_.front()), [this, self](boost::system::error_code ec, std::size_t) {
      if (ec) return close();
      out_.pop_front();
      if (!out_.empty()) write_next();
    });
  }

  void touch() {
    idle_.expires_after(settings_.tcp_idle_timeout);
    idle_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->close();
    });
  }
  void close() {
    boost::system::error_code ignored;
    idle_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer idle_;
  const SipSettings& settings_;
  SipFront& front_;
  std::shared_ptr<std::size_t> count_;
  SipPeer peer_;
  std::string buffer_;
  std::deque<std::string> out_;
};

SipTransport::SipTransport(asio::io_context& io, const SipSettings& settings, SipFront& front)
    : io_(io),
      settings_(settings),
      front_(front),
      udp_(io),
      tcp_(io),
      tcp_connections_(std::make_shared<std::size_t>(0)) {}

SipTransport::~SipTransport() = default;

router::Result<std::string> SipTransport::start() {
  const auto colon = settings_.listen.rfind(':');
  boost::system::error_code ec;
  std::string host = settings_.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return router::invalid_argument("listen", "'" + host + "' is not an IP address");
  uint16_t wanted = 0;
  const std::string port_text = settings_.listen.substr(colon + 1);
  if (std::from_chars(port_text.data(), port_text.data() + port_text.size(), wanted).ec != std::errc()) {
    return router::invalid_argument("listen", "bad port '" + port_text + "'");
  }
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    uint16_t port = wanted;
    udp_.close(ec);
    tcp_.close(ec);
    if (settings_.udp) {
      udp_.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
      if (!ec) udp_.set_option(asio::socket_base::receive_buffer_size(kUdpReceiveBuffer), ec);
      if (!ec) udp_.bind({address, port}, ec);
      if (ec) return router::invalid_argument("listen", "UDP " + settings_.listen + ": " + ec.message());
      port = udp_.local_endpoint().port();
    }
    if (settings_.tcp) {
      tcp_.open(address.is_v4() ? tcp::v4() : tcp::v6(), ec);
      if (!ec) tcp_.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) tcp_.bind({address, port}, ec);
      if (!ec) tcp_.listen(asio::socket_base::max_listen_connections, ec);
      if (ec && wanted == 0 && settings_.udp) continue;  // that UDP port's TCP twin is taken: another one
      if (ec) return router::invalid_argument("listen", "TCP " + settings_.listen + ": " + ec.message());
      port = tcp_.local_endpoint().port();
    }
    if (settings_.udp) wait_udp();
    if (settings_.tcp) accept_tcp();
    return address.to_string() + ":" + std::to_string(port);
  }
  return router::invalid_argument("listen", "no port free for both UDP and TCP");
}

void SipTransport::stop() {
  boost::system::error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);
}

void SipTransport::wait_udp() {
  udp_.async_wait(udp::socket::wait_read, [this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || !udp_.is_open()) return;
    if (ec) spdlog::warn("phone: waiting on the SIP/UDP socket: {}", ec.message());
    read_udp();
  });
}

void SipTransport::read_udp() {
  // One byte more than allowed, so an oversized datagram is seen as such.
  const std::size_t size = settings_.max_message_bytes + 1;
  udp_buffers_.resize(size * kBatch);
  mmsghdr headers[kBatch];
  iovec pieces[kBatch];
  sockaddr_storage senders[kBatch];
  for (int turn = 0; turn < kReadsPerTurn; ++turn) {
    for (unsigned i = 0; i < kBatch; ++i) {
      pieces[i] = {udp_buffers_.data() + i * size, size};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &senders[i];
      headers[i].msg_hdr.msg_namelen = sizeof senders[i];
      headers[i].msg_hdr.msg_iov = &pieces[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(udp_.native_handle(), headers, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::warn("phone: reading the SIP/UDP socket: {}", std::strerror(errno));
      }
      return wait_udp();
    }
    for (int i = 0; i < n; ++i) {
      udp::endpoint sender;
      const auto length = std::min<std::size_t>(headers[i].msg_hdr.msg_namelen, sender.capacity());
      std::memcpy(sender.data(), &senders[i], length);
      sender.resize(length);
      SipPeer peer;
      peer.address = sender.address();
      peer.port = sender.port();
      peer.datagrams = this;
      if (headers[i].msg_len > 0) {
        front_.receive(std::string_view(udp_buffers_.data() + i * size, headers[i].msg_len), peer);
      }
    }
    // Fewer than asked: the socket is empty now, and the next datagram wakes us again.
    if (static_cast<unsigned>(n) < kBatch) return wait_udp();
  }
  asio::post(io_, [this] {  // more waiting: after what else is ready
    if (udp_.is_open()) read_udp();
  });
}

void SipTransport::send_datagram(const udp::endpoint& to, std::string bytes) {
  if (outgoing_.size() >= kMaxOutgoing) return;
  outgoing_.push_back({to, std::move(bytes)});
  if (flush_posted_ || waiting_writable_) return;
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    flush_udp();
  });
}

void SipTransport::flush_udp() {
  std::size_t sent = 0;
  while (sent < outgoing_.size() && udp_.is_open()) {
    const unsigned n = static_cast<unsigned>(std::min<std::size_t>(kBatch, outgoing_.size() - sent));
    mmsghdr headers[kBatch];
    iovec pieces[kBatch];
    for (unsigned i = 0; i < n; ++i) {
      Datagram& d = outgoing_[sent + i];
      pieces[i] = {d.bytes.data(), d.bytes.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = d.to.data();
      headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(d.to.size());
      headers[i].msg_hdr.msg_iov = &pieces[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = ::sendmmsg(udp_.native_handle(), headers, n, MSG_DONTWAIT);
    if (done >= 0) {
      sent += static_cast<std::size_t>(done);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // The send buffer is full: the rest goes when there is room again.
      outgoing_.erase(outgoing_.begin(), outgoing_.begin() + static_cast<std::ptrdiff_t>(sent));
      waiting_writable_ = true;
      udp_.async_wait(udp::socket::wait_write, [this](boost::system::error_code ec) {
        waiting_writable_ = false;
        if (ec == asio::error::operation_aborted) return;
        flush_udp();
      });
      return;
    }
    ++sent;  // this one cannot go (unreachable, too big): lost, like a datagram on the way
  }
  outgoing_.clear();
}

void SipTransport::accept_tcp() {
  tcp_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !tcp_.is_open()) return;
    if (!ec) {
      if (*tcp_connections_ >= settings_.max_tcp_connections) {
        spdlog::warn("phone: refused a SIP/TCP connection: max_tcp_connections ({}) open",
                     settings_.max_tcp_connections);
      } else {
        std::make_shared<TcpConnection>(std::move(socket), settings_, front_, tcp_connections_)->start();
      }
    }
    accept_tcp();
  });
}

}  // namespace switchboard::adapters::phone
