// The client adapters call providers' REST APIs with, against a real local server
// standing in for the provider: what it sends, how answers are classified for the
// outbox, and the bounds on time and answer size.

#include "common/http_client.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/hmac.h"
#include "common/http_server.h"

namespace switchboard::adapters::http {
namespace {

using namespace std::chrono_literals;

// The provider: records each request and answers with the status the path names.
class CaptureServer {
 public:
  CaptureServer() : server_(HttpServerOptions{}) {
    server_.route_prefix(Verb::post, "/status/", [this](Request req, const Peer&, Respond respond) {
      const std::string path(path_of(req.target()));
      remember(req);
      const int status = std::stoi(path.substr(std::string("/status/").size()));
      respond(make_response(static_cast<beast_http::status>(status), "{\"answer\":" + std::to_string(status) + "}",
                            "application/json"));
    });
    server_.route(Verb::post, "/big", [](Request, const Peer&, Respond respond) {
      respond(make_response(beast_http::status::ok, std::string(4096, 'x')));
    });
    server_.route(Verb::post, "/slow", [this](Request, const Peer&, Respond respond) {
      std::lock_guard lock(mutex_);
      parked_ = std::move(respond);  // answered by the server's own handler timeout, long after the client gave up
    });
    EXPECT_TRUE(server_.start().ok());
  }

  std::string url(const std::string& path) const { return "http://" + server_.local_address() + path; }
  Request last() {
    std::lock_guard lock(mutex_);
    return requests_.back();
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  void remember(const Request& req) {
    std::lock_guard lock(mutex_);
    requests_.push_back(req);
  }

  std::mutex mutex_;
  std::vector<Request> requests_;
  Respond parked_;
  HttpServer server_;  // last: stopped first, before what its handlers touch
};

TEST(HttpClientTest, SendsTheBodyHeadersAndBasicAuthAsGiven) {
  CaptureServer provider;
  ClientRequest request;
  request.url = provider.url("/status/201?x=1");
  request.body = R"({"to":"+14155550100","body":"hi"})";
  request.headers = {{"X-Trace", "t-1"}};
  request.username = "AC123";
  request.password = "secret";
  const ClientResponse response = send_request(request);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "{\"answer\":201}");
  EXPECT_TRUE(response.error.empty());
  EXPECT_EQ(classify(response), DeliveryOutcome::kSent);

  const Request seen = provider.last();
  EXPECT_EQ(seen.method(), Verb::post);
  EXPECT_EQ(seen.target(), "/status/201?x=1");
  EXPECT_EQ(seen.body(), request.body);
  EXPECT_EQ(seen["Content-Type"], "application/json");
  EXPECT_EQ(seen["X-Trace"], "t-1");
  EXPECT_EQ(seen["Authorization"], "Basic " + to_base64("AC123:secret"));
  EXPECT_EQ(seen.count("Expect"), 0u);
}

TEST(HttpClientTest, ClassifiesAnswersForTheOutbox) {
  CaptureServer provider;
  auto call = [&](const std::string& path) {
    ClientRequest request;
    request.url = provider.url(path);
    request.body = "{}";
    return send_request(request);
  };
  EXPECT_EQ(classify(call("/status/200")), DeliveryOutcome::kSent);
  EXPECT_EQ(classify(call("/status/500")), DeliveryOutcome::kRetry);
  EXPECT_EQ(classify(call("/status/503")), DeliveryOutcome::kRetry);
  EXPECT_EQ(classify(call("/status/429")), DeliveryOutcome::kRetry);
  const ClientResponse refused = call("/status/400");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body, "{\"answer\":400}");  // the provider's error, for the failed reason
  EXPECT_EQ(classify(refused), DeliveryOutcome::kFailed);
  EXPECT_EQ(classify(call("/status/403")), DeliveryOutcome::kFailed);
  EXPECT_EQ(provider.count(), 6u);
}

TEST(HttpClientTest, NoAnswerIsWorthAnotherAttempt) {
  std::string url;
  {
    CaptureServer gone;
    url = gone.url("/status/200");
  }  // closed: the port refuses connections now
  ClientRequest request;
  request.url = url;
  const ClientResponse response = send_request(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_EQ(classify(response), DeliveryOutcome::kRetry);
}

TEST(HttpClientTest, GivesUpAfterItsTimeout) {
  CaptureServer provider;
  ClientRequest request;
  request.url = provider.url("/slow");
  request.timeout = 300ms;
  const ClientResponse response = send_request(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_EQ(classify(response), DeliveryOutcome::kRetry);
}

TEST(HttpClientTest, RefusesAnAnswerLargerThanItsBound) {
  CaptureServer provider;
  ClientRequest request;
  request.url = provider.url("/big");
  request.max_response_bytes = 1024;
  const ClientResponse response = send_request(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error.find("larger than 1024"), std::string::npos) << response.error;
  request.max_response_bytes = 8192;
  EXPECT_EQ(send_request(request).body.size(), 4096u);
}

TEST(FormTest, EncodesAndParsesBothWays) {
  const Fields fields = {{"To", "+14155550100"}, {"Body", "Hi & bye = 100% ünïcode"}, {"Empty", ""}};
  const std::string encoded = form_encode(fields);
  EXPECT_EQ(encoded.substr(0, 21), "To=%2B14155550100&Bod");
  EXPECT_EQ(encoded.find(' '), std::string::npos);
  const auto parsed = parse_form(encoded);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, fields);

  const auto plus = parse_form("Body=hello+world&From=%2B1");
  ASSERT_TRUE(plus.has_value());
  EXPECT_EQ((*plus)[0].second, "hello world");
  EXPECT_EQ((*plus)[1].second, "+1");
  EXPECT_FALSE(parse_form("Body=%zz").has_value());
}

}  // namespace
}  // namespace switchboard::adapters::http
