#include "postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

namespace switchboard::router::testing {
namespace {

constexpr const char* kDefaultBin = "/usr/lib/postgresql/15/bin";

Error unavailable(std::string message) { return Error{ErrorCode::kUnavailable, {}, std::move(message)}; }

// The last lines of a log, for an error message that says what the server said.
std::string tail(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > 1500 ? text.substr(text.size() - 1500) : text;
}

}  // namespace

// Stops the server once every test of the process has run.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (started_) PostgresServer::get().shut_down();
  }
  static inline bool started_ = false;
};

namespace {
[[maybe_unused]] auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
}  // namespace

PostgresServer& PostgresServer::get() {
  static PostgresServer server;
  PostgresEnvironment::started_ = true;
  return server;
}

PostgresServer::PostgresServer() {
  const char* bin = std::getenv("SWITCHBOARD_PG_BIN");
  bin_ = bin ? bin : kDefaultBin;
  if (Status started = init(); !started) error_ = started.error().message;
}

PostgresServer::~PostgresServer() { shut_down(); }

int PostgresServer::free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// As postgres when we are root (initdb and postgres refuse to run as root).
Status PostgresServer::run(const std::string& command, const std::string& what) const {
  const std::string as_user = geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string log = (dir_ / "commands.log").string();
  const std::string line = as_user + command + " >>" + log + " 2>&1";
  if (std::system(line.c_str()) != 0) {
    return unavailable(what + " failed: " + command + "\n" + tail(log) + tail(dir_ / "server.log"));
  }
  return ok_status();
}

Status PostgresServer::init() {
  if (!std::filesystem::exists(bin_ / "initdb") || !std::filesystem::exists(bin_ / "pg_ctl")) {
    return unavailable("the PostgreSQL 15 server is not installed: no initdb/pg_ctl in " + bin_.string() +
                       " (apt-get install postgresql, or scripts/install-deps.sh; $SWITCHBOARD_PG_BIN names "
                       "another folder)");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-pg-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return unavailable("mkdtemp failed");
  dir_ = pattern;
  if (geteuid() == 0) {
    const passwd* user = getpwnam("postgres");
    if (!user) return unavailable("running as root, but there is no user postgres to run the server as");
    if (::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) return unavailable("chown " + dir_.string());
  }
  // --no-sync: the data folder is thrown away; the server itself runs with fsync=on.
  if (Status s = run((bin_ / "initdb").string() + " -D " + (dir_ / "data").string() +
                         " -U postgres -A trust --no-sync --no-locale -E UTF8",
                     "initdb");
      !s) {
    return s;
  }
  port_ = free_port();
  return start();
}

Status PostgresServer::start() {
  const std::string options =
      "-p " + std::to_string(port_) + " -k " + dir_.string() + " -c listen_addresses=127.0.0.1 -c fsync=on";
  if (Status s = run((bin_ / "pg_ctl").string() + " -D " + (dir_ / "data").string() + " -l " +
                         (dir_ / "server.log").string() + " -W -o \"" + options + "\" start",
                     "pg_ctl start");
      !s) {
    return s;
  }
  const std::string ready =
      (bin_ / "pg_isready").string() + " -q -h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::system(ready.c_str()) == 0) {
      running_ = true;
      return ok_status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return unavailable("PostgreSQL did not become ready within 30 s:\n" + tail(dir_ / "server.log"));
}

Status PostgresServer::stop() {
  running_ = false;
  return run((bin_ / "pg_ctl").string() + " -D " + (dir_ / "data").string() + " -m fast -w stop", "pg_ctl stop");
}

void PostgresServer::shut_down() {
  if (dir_.empty()) return;
  if (running_) (void)stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  dir_.clear();
}

std::string PostgresServer::uri(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PostgresServer::create_database() {
  if (!running_) return unavailable(error_.empty() ? "the PostgreSQL server is stopped" : error_);
  const std::string name = "test_" + std::to_string(++databases_);
  try {
    pqxx::connection admin(uri("postgres"));
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + name);
  } catch (const std::exception& e) {
    return unavailable(std::string("CREATE DATABASE failed: ") + e.what());
  }
  return uri(name);
}

}  // namespace switchboard::router::testing
