#pragma once

// Runs the real switchboardd as a child process, the way an operator would: flags,
// a config file and the SWITCHBOARD_ADMIN_KEY environment variable. The port comes
// from the first line the daemon prints, so tests never pick one.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::testing {

class DaemonProcess {
 public:
  DaemonProcess() = default;
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  ~DaemonProcess();  // kills a daemon still running

  // Spawns `binary args...` with `env` added to this process's environment and waits
  // (bounded) for "listening on HOST:PORT". Returns an error text, empty on success.
  std::string start(const std::string& binary, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env);

  const std::string& address() const { return address_; }
  // The next line the daemon prints on stdout after the first (bounded wait).
  std::optional<std::string> next_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() const { return pid_ > 0; }

  // Sends SIGTERM and waits (bounded) for the exit; the exit code, or nothing when the
  // daemon did not exit in time or died of a signal.
  std::optional<int> terminate(std::chrono::seconds timeout = std::chrono::seconds(20));

  // The two halves of terminate(), for a test that acts while the daemon drains.
  void send_sigterm();
  // kill -9, as a crash or a power cut would, and reaps the process.
  void kill_hard();
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string address_;
};

}  // namespace switchboard::testing
