// switchboard_empty_ingest: the baselines of bench/loadgen/run.sh, a server with
// switchboardd's IngestService and nothing behind it.
//
//   switchboard_empty_ingest [--listen HOST:PORT] [--sqlite PATH]
//
// Without --sqlite every Ingest is answered at once, from the gRPC thread that got
// it: the transport's limit for this client on this machine. With --sqlite PATH each
// call is one row in a SQLite file with the store's durability (WAL,
// synchronous=FULL) and is answered after its transaction committed; one writer
// thread takes every call waiting (up to 4,096, the store's batch bound) into one
// transaction, the group commit switchboardd's store does: the disk's limit behind
// the same transport. Like switchboardd, the first line on stdout is
// "listening on HOST:PORT"; SIGTERM or SIGINT stops it.

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sqlite3.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "switchboard/v1/ingest.grpc.pb.h"

namespace v1 = switchboard::v1;

namespace {

constexpr std::size_t kMaxBatch = 4096;

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "switchboard_empty_ingest: " << what << "\n";
  std::exit(EXIT_FAILURE);
}

// One call waiting for its row to commit; gRPC keeps request and response alive until
// the reactor finishes.
struct PendingCall {
  grpc::ServerUnaryReactor* reactor;
  const v1::IngestRequest* request;
  v1::IngestResponse* response;
};

// Group commit into one SQLite file on its own thread.
class SqliteSink {
 public:
  explicit SqliteSink(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail("cannot open " + path);
    exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    exec(
        "CREATE TABLE IF NOT EXISTS events(cursor INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, "
        "seq INTEGER NOT NULL, body BLOB NOT NULL)");
    if (sqlite3_prepare_v2(db_, "INSERT INTO events(conversation_id, seq, body) VALUES(?1, ?2, ?3)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      fail(sqlite3_errmsg(db_));
    }
    writer_ = std::thread([this] { write_until_stopped(); });
  }

  ~SqliteSink() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    waiting_.notify_one();
    writer_.join();
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }

  void add(PendingCall call) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(call);
    }
    waiting_.notify_one();
  }

 private:
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sqlite3_errmsg(db_));
  }

  std::vector<PendingCall> take() {
    std::unique_lock lock(mutex_);
    waiting_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    const auto n = std::min(queue_.size(), kMaxBatch);
    std::vector<PendingCall> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    return batch;
  }

  void write_until_stopped() {
    for (auto batch = take(); !batch.empty(); batch = take()) {
      exec("BEGIN");
      for (const auto& call : batch) {
        const std::string body = call.request->SerializeAsString();
        const auto& address = call.request->message().address();
        sqlite3_bind_text(insert_, 1, address.data(), static_cast<int>(address.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert_, 2, ++seq_);
        sqlite3_bind_blob(insert_, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
        if (sqlite3_step(insert_) != SQLITE_DONE) fail(sqlite3_errmsg(db_));
        sqlite3_reset(insert_);
      }
      exec("COMMIT");
      for (const auto& call : batch) {
        call.response->set_seq(static_cast<uint64_t>(seq_));
        call.reactor->Finish(grpc::Status::OK);
      }
    }
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  int64_t seq_ = 0;
  std::mutex mutex_;
  std::condition_variable waiting_;
  std::deque<PendingCall> queue_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::thread writer_;
};

class EmptyIngest final : public v1::IngestService::CallbackService {
 public:
  explicit EmptyIngest(SqliteSink* sink) : sink_(sink) {}

  grpc::ServerUnaryReactor* Ingest(grpc::CallbackServerContext* context, const v1::IngestRequest* request,
                                   v1::IngestResponse* response) override {
    auto* reactor = context->DefaultReactor();
    // The same answer shape as switchboardd's.
    response->set_contact_id("ct_empty");
    response->set_conversation_id("cv_empty");
    if (sink_ != nullptr) {
      sink_->add({reactor, request, response});
    } else {
      response->set_seq(1);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

 private:
  SqliteSink* sink_;
};

}  // namespace

int main(int argc, char** argv) {
  // As switchboardd does: no absl::Mutex deadlock detection in gRPC's hot path (Debian
  // builds Abseil with it on), so the baseline is the same transport.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string listen = "127.0.0.1:0";
  std::string sqlite_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << "usage: switchboard_empty_ingest [--listen HOST:PORT] [--sqlite PATH]\n";
      return EXIT_SUCCESS;
    }
    if ((flag == "--listen" || flag == "--sqlite") && i + 1 < argc) {
      (flag == "--listen" ? listen : sqlite_path) = argv[++i];
    } else {
      std::cerr << "switchboard_empty_ingest: unknown flag or missing value '" << flag << "' (see --help)\n";
      return 2;
    }
  }
  // Blocked before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<SqliteSink> sink;
  if (!sqlite_path.empty()) sink = std::make_unique<SqliteSink>(sqlite_path);
  EmptyIngest service(sink.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) fail("cannot listen on " + listen);
  std::cout << "listening on " << listen.substr(0, listen.rfind(':')) << ":" << port << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return EXIT_SUCCESS;
}
