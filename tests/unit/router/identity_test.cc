#include <switchboard/router/identity.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::router {
namespace {

struct Good {
  std::string channel;
  std::string address;
  std::string expected;
};

struct Bad {
  std::string name;  // why it is bad, for the failure message
  std::string channel;
  std::string address;
};

class IdentityNormalizerTest : public ::testing::Test {
 protected:
  void expect_normalized(const std::vector<Good>& cases) const {
    for (const Good& c : cases) {
      SCOPED_TRACE(c.channel + ":" + c.address);
      const Result<Identity> identity = normalizer_.normalize(c.channel, c.address, /*verified=*/false);
      ASSERT_TRUE(identity.ok()) << identity.error().describe();
      EXPECT_EQ(identity->channel, c.channel);
      EXPECT_EQ(identity->address, c.expected);
    }
  }

  void expect_refused(const std::vector<Bad>& cases) const {
    for (const Bad& c : cases) {
      SCOPED_TRACE(c.name);
      const Result<Identity> identity = normalizer_.normalize(c.channel, c.address, false, "message.address");
      ASSERT_FALSE(identity.ok()) << "accepted as " << identity->address;
      EXPECT_EQ(identity.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(identity.error().field, "message.address");
      EXPECT_FALSE(identity.error().message.empty());
    }
  }

  Limits limits_;
  IdentityNormalizer normalizer_{"US", limits_};
};

TEST_F(IdentityNormalizerTest, LowercasesAndTrimsEmail) {
  expect_normalized({
      {"email", "ana@example.org", "ana@example.org"},
      {"email", "Ana@Example.ORG", "ana@example.org"},
      {"email", "  ana.lopez+support@mail.example.org \t", "ana.lopez+support@mail.example.org"},
      {"email", "\r\n\v\fana@example.org\f", "ana@example.org"},
      // Only ASCII letters are lowered: UTF-8's bytes pass as they are.
      {"email", "José@Éxample.ORG", "josé@Éxample.org"},
  });
}

TEST_F(IdentityNormalizerTest, RefusesMalformedEmail) {
  const std::string long_local(limits_.max_address_bytes, 'a');
  expect_refused({
      {"no @", "email", "ana.example.org"},
      {"two @", "email", "ana@mail@example.org"},
      {"no dot in domain", "email", "ana@example"},
      {"space inside", "email", "ana lopez@example.org"},
      {"empty", "email", ""},
      {"blank", "email", "   "},
      {"nothing before @", "email", "@example.org"},
      {"too long", "email", long_local + "@example.org"},
  });
}

TEST_F(IdentityNormalizerTest, WritesPhoneNumbersAsE164) {
  expect_normalized({
      {"phone", "(415) 555-0100", "+14155550100"},
      {"phone", "415.555.0100", "+14155550100"},
      {"phone", "+1 415 555 0100", "+14155550100"},
      {"phone", "+44 20 7946 0958", "+442079460958"},
  });
}

TEST_F(IdentityNormalizerTest, TreatsSmsAndWhatsappAsPhoneNumbers) {
  expect_normalized({
      {"sms", "(415) 555-0100", "+14155550100"},
      {"whatsapp", "+44 20 7946 0958", "+442079460958"},
  });
  EXPECT_TRUE(is_phone_channel("phone"));
  EXPECT_TRUE(is_phone_channel("sms"));
  EXPECT_TRUE(is_phone_channel("whatsapp"));
  EXPECT_FALSE(is_phone_channel("email"));
  EXPECT_FALSE(is_phone_channel("chat"));
  EXPECT_FALSE(is_phone_channel("telegram"));
}

TEST_F(IdentityNormalizerTest, RefusesWhatIsNotAPhoneNumber) {
  expect_refused({
      {"letters", "phone", "call me maybe"},
      {"too short", "phone", "123"},
      {"empty", "phone", ""},
      {"sms garbage", "sms", "not-a-number"},
      {"whatsapp too short", "whatsapp", "+1 41"},
  });
}

TEST_F(IdentityNormalizerTest, UsesTheDefaultRegionForNationalNumbers) {
  const IdentityNormalizer british("GB");
  const Result<Identity> identity = british.normalize("phone", "020 7946 0958", false);
  ASSERT_TRUE(identity.ok()) << identity.error().describe();
  EXPECT_EQ(identity->address, "+442079460958");
}

// Recent numbers are remembered per thread: an answer for one default region must not
// be handed out for another, however the calls interleave.
TEST_F(IdentityNormalizerTest, RemembersNumbersPerDefaultRegion) {
  const IdentityNormalizer british("GB");
  const IdentityNormalizer american("US");
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(british.normalize("phone", "020 7946 0958", false)->address, "+442079460958");
    EXPECT_EQ(american.normalize("phone", "020 7946 0958", false).ok(), false);
    EXPECT_EQ(american.normalize("sms", "(415) 555-0100", false)->address, "+14155550100");
    const Result<Identity> in_britain = british.normalize("sms", "(415) 555-0100", false);
    ASSERT_TRUE(in_britain.ok()) << in_britain.error().describe();  // a possible British number
    EXPECT_EQ(in_britain->address, "+444155550100");
  }
}

TEST_F(IdentityNormalizerTest, KeepsOtherChannelsAsGivenButTrimmed) {
  expect_normalized({
      {"chat", "  Visitor-42 ", "Visitor-42"},
      {"telegram", "support_bot/123456789", "support_bot/123456789"},
      {"messenger", "1122334455/9988776655", "1122334455/9988776655"},
      {"kiosk", std::string(limits_.max_address_bytes, 'k'), std::string(limits_.max_address_bytes, 'k')},
  });
}

TEST_F(IdentityNormalizerTest, BoundsOtherChannels) {
  expect_refused({
      {"empty", "chat", ""},
      {"blank", "chat", "  "},
      {"too long", "chat", std::string(limits_.max_address_bytes + 1, 'v')},
      {"control character", "chat", std::string("visitor\x01", 8)},
  });
}

TEST_F(IdentityNormalizerTest, CarriesTheVerifiedFlag) {
  const Result<Identity> verified = normalizer_.normalize("email", "ana@example.org", true);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->verified);
  const Result<Identity> unverified = normalizer_.normalize("email", "ana@example.org", false);
  ASSERT_TRUE(unverified.ok());
  EXPECT_FALSE(unverified->verified);
}

TEST_F(IdentityNormalizerTest, AcceptsChannelNames) {
  for (const std::string name : {"chat", "email", "whatsapp", "my_kiosk-2"}) {
    const Result<std::string> channel = normalizer_.normalize_channel(name);
    ASSERT_TRUE(channel.ok()) << name << ": " << channel.error().describe();
    EXPECT_EQ(channel.value(), name);
  }
}

TEST_F(IdentityNormalizerTest, RefusesBadChannelNames) {
  const std::vector<std::string> bad = {"Bad Channel!", "",     "chat!",
                                        "e mail",       "ch@t", std::string(limits_.max_channel_bytes + 1, 'c')};
  for (const std::string& name : bad) {
    const Result<std::string> channel = normalizer_.normalize_channel(name, "message.channel");
    ASSERT_FALSE(channel.ok()) << "accepted '" << name << "'";
    EXPECT_EQ(channel.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(channel.error().field, "message.channel");
  }
}

TEST_F(IdentityNormalizerTest, RefusesAnIdentityOnABadChannel) {
  const Result<Identity> identity = normalizer_.normalize("Bad Channel!", "visitor-1", false);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::router
