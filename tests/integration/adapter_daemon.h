#pragma once

// The end-to-end tests of a channel adapter (email, phone, social) each run a real
// switchboardd on the memory store with that one adapter, in a temporary folder of
// their own. This is what they share: the folder, the daemon, the admin client.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "client.h"
#include "daemon_process.h"

namespace switchboard::testing {

class AdapterDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    admin_.reset();
    if (daemon_.running()) EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Writes `config` into dir_/`config_file` (a .yaml file takes the YAML path, and JSON
  // is YAML too), starts switchboardd on it with `admin_key`, and connects admin_.
  // Call it under ASSERT_NO_FATAL_FAILURE.
  void start_daemon(const std::string& config, const std::string& admin_key,
                    const std::string& config_file = "switchboardd.yaml") {
    std::ofstream(dir_ / config_file) << config;
    ASSERT_EQ(
        daemon_.start(SWITCHBOARDD_PATH,
                      {"--grpc-listen", "127.0.0.1:0", "--store", "memory:", "--config", (dir_ / config_file).string()},
                      {{"SWITCHBOARD_ADMIN_KEY", admin_key}}),
        "");
    admin_ =
        std::make_unique<Client>(grpc::CreateChannel(daemon_.address(), grpc::InsecureChannelCredentials()), admin_key);
  }

  // The first line of dir_/`file`, where the adapter wrote its listening address.
  std::string listening_address(const std::string& file) const {
    std::string address;
    std::getline(std::ifstream(dir_ / file), address);
    return address;
  }

  std::filesystem::path dir_;
  DaemonProcess daemon_;
  std::unique_ptr<Client> admin_;
};

}  // namespace switchboard::testing
