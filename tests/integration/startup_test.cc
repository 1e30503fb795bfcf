// switchboardd's start-up: flags, config files and what it refuses to start with.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "client.h"
#include "daemon_process.h"

namespace switchboard::testing {
namespace {

constexpr int kUsageError = 2;

class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "switchboardd-startup-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // Starts with `args` and no admin key; the error text of start(), empty once serving.
  std::string start(const std::vector<std::string>& args) {
    // Its own store file: the default one would land in the working directory.
    const std::string store = "sqlite:" + (dir_ / "switchboard.db").string();
    std::vector<std::string> all{"--grpc-listen", "127.0.0.1:0", "--store", store};
    all.insert(all.end(), args.begin(), args.end());
    return daemon_.start(SWITCHBOARDD_PATH, all, {{"SWITCHBOARD_ADMIN_KEY", ""}});
  }

  std::filesystem::path dir_;
  DaemonProcess daemon_;
};

TEST_F(StartupTest, BadOrUnbuiltStoresAreRefused) {
  const std::string missing_dir = "sqlite:" + (dir_ / "no" / "such" / "dir" / "switchboard.db").string();
  for (const std::string store :
       {missing_dir, std::string("sqlite:"), std::string("sqlite:x.db?synchronous=maybe"),
        std::string("postgresql://127.0.0.1:1/unreachable?connect_timeout=2"), std::string("redis://x")}) {
    DaemonProcess daemon;
    EXPECT_NE(daemon.start(SWITCHBOARDD_PATH, {"--grpc-listen", "127.0.0.1:0", "--store", store}, {}), "");
    EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(20)), std::optional<int>(kUsageError)) << store;
  }
}

TEST_F(StartupTest, UnknownConfigFieldsAreRefused) {
  EXPECT_NE(start({"--config", write("typo.yaml", "limits:\n  max_text_byte: 10\n")}), "");
  EXPECT_EQ(daemon_.wait_exit(std::chrono::seconds(20)), std::optional<int>(kUsageError));
}

TEST_F(StartupTest, MalformedKeyHashIsRefused) {
  EXPECT_NE(
      start({"--config", write("bad.json", R"({"api_keys": [{"name": "x", "role": "admin", "sha256": "abc"}]})")}), "");
  EXPECT_EQ(daemon_.wait_exit(std::chrono::seconds(20)), std::optional<int>(kUsageError));
}

TEST_F(StartupTest, UnknownAdaptersAndDoubleSettingsAreRefused) {
  for (const std::string config :
       {std::string("adapters:\n  - name: fax\n"),
        std::string("adapters:\n  - name: fax\n    settings_json: '{}'\n    settings: {a: 1}\n")}) {
    DaemonProcess daemon;
    const std::string store = "sqlite:" + (dir_ / "switchboard.db").string();
    EXPECT_NE(daemon.start(SWITCHBOARDD_PATH,
                           {"--grpc-listen", "127.0.0.1:0", "--store", store, "--config", write("a.yaml", config)}, {}),
              "");
    EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(20)), std::optional<int>(kUsageError)) << config;
  }
}

TEST_F(StartupTest, JsonConfigKeysWork) {
  // lowerCamelCase names are accepted too; the hash is `printf json-key | sha256sum`.
  const std::string config = R"({"apiKeys": [{"name": "ops", "role": "admin",
      "sha256": "364589ed4fb201ecb126052bd46053a3d187c021068fbdbbbb1170598699002a"}]})";
  ASSERT_EQ(start({"--config", write("switchboardd.json", config)}), "");
  const auto channel = grpc::CreateChannel(daemon_.address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(Client(channel, "json-key").list_conversations().ok());
  EXPECT_EQ(Client(channel, "json-key2").list_conversations().status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
}

TEST_F(StartupTest, WithoutKeysEveryCallIsUnauthenticated) {
  ASSERT_EQ(start({}), "");
  Client anyone(grpc::CreateChannel(daemon_.address(), grpc::InsecureChannelCredentials()), "anything");
  EXPECT_EQ(anyone.list_conversations().status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
}

}  // namespace
}  // namespace switchboard::testing
