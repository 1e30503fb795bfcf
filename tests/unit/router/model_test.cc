#include <switchboard/router/model.h>

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace switchboard::router {
namespace {

// Conversation keeps its rarely-set fields out of line (Conversation::extras); it must
// still behave as the plain value type it was: copies are independent, moves carry.

Conversation with_extras() {
  Conversation c{.id = "cv-1"};
  ConversationExtras& x = c.extras.edit();
  x.labels = {"vip"};
  x.reopen_count = 2;
  x.csat = 4;
  x.calls.push_back(Call{.call_id = "CA1"});
  return c;
}

TEST(Conversation, ReadsDefaultsWithoutAllocatingExtras) {
  const Conversation c;
  EXPECT_FALSE(c.extras.allocated());
  EXPECT_TRUE(c.extras->labels.empty());
  EXPECT_EQ(c.extras->transfer_count, 0u);
  EXPECT_EQ(c.extras->csat, 0);
  EXPECT_EQ(c.extras->nps, -1);
  EXPECT_FALSE(c.extras->snoozed_until);
  EXPECT_FALSE(c.extras.allocated());
}

TEST(Conversation, ACopyKeepsItsOwnExtras) {
  const Conversation original = with_extras();
  Conversation copy = original;
  ASSERT_TRUE(copy.extras.allocated());
  EXPECT_NE(&*copy.extras, &*original.extras);
  EXPECT_EQ(copy.extras->labels, original.extras->labels);
  EXPECT_EQ(copy.extras->reopen_count, 2u);
  EXPECT_EQ(copy.extras->calls.at(0).call_id, "CA1");

  copy.extras.edit().csat = 5;
  copy.extras.edit().labels.push_back("refund");
  EXPECT_EQ(original.extras->csat, 4);
  EXPECT_EQ(original.extras->labels.size(), 1u);
}

TEST(Conversation, AssignmentCopiesOrDropsExtras) {
  Conversation target = with_extras();
  target = Conversation{.id = "cv-2"};
  EXPECT_FALSE(target.extras.allocated());
  EXPECT_EQ(target.extras->reopen_count, 0u);

  const Conversation source = with_extras();
  target = source;
  EXPECT_EQ(target.extras->csat, 4);
  target.extras.edit().csat = 1;
  EXPECT_EQ(source.extras->csat, 4);
}

TEST(Conversation, AMoveCarriesTheExtras) {
  Conversation source = with_extras();
  const ConversationExtras* block = &*source.extras;
  Conversation moved = std::move(source);
  EXPECT_EQ(&*moved.extras, block);
  EXPECT_EQ(moved.extras->labels.at(0), "vip");
}

TEST(Conversation, AResetFieldTakesItsDefaultNotZero) {
  Conversation c = with_extras();
  c.extras.edit().nps = 9;
  c.extras.edit().survey_kind = "nps";
  c.extras.reset(&ConversationExtras::nps);
  c.extras.reset(&ConversationExtras::survey_kind);
  EXPECT_EQ(c.extras->nps, -1) << "nps's default is -1 (no answer), not 0";
  EXPECT_TRUE(c.extras->survey_kind.empty());
  EXPECT_EQ(c.extras->csat, 4) << "only the named fields are reset";
  EXPECT_EQ(c.extras->labels.at(0), "vip");
}

TEST(Conversation, ResettingWhatWasNeverSetAllocatesNothing) {
  Conversation c;
  c.extras.reset(&ConversationExtras::snoozed_until);
  c.extras.reset(&ConversationExtras::nps);
  EXPECT_FALSE(c.extras.allocated());
  EXPECT_EQ(c.extras->nps, -1);
}

// Whether a vector's elements lie within the vector itself (inline, no heap block).
bool held_inside(const auto& vector) {
  const auto* begin = reinterpret_cast<const char*>(&vector);
  const auto* data = reinterpret_cast<const char*>(vector.data());
  return data >= begin && data < begin + sizeof vector;
}

TEST(Conversation, KeepsOneLegAndTwoSlaClocksInline) {
  Conversation c;
  c.legs.push_back(ChannelLeg{.channel = "email", .address = "ana@example.org"});
  c.sla.push_back(SlaClock{.metric = SlaMetric::kFirstResponse});
  c.sla.push_back(SlaClock{.metric = SlaMetric::kResolution});
  EXPECT_TRUE(held_inside(c.legs)) << "no block of its own";
  EXPECT_TRUE(held_inside(c.sla));
  Conversation copy = c;
  c.sla.push_back(SlaClock{.metric = SlaMetric::kNextResponse});  // a third one moves them out, keeping them
  EXPECT_EQ(c.sla.size(), 3u);
  EXPECT_EQ(c.sla[1].metric, SlaMetric::kResolution);
  EXPECT_EQ(copy.sla.size(), 2u);
  EXPECT_EQ(copy.legs.at(0).address, "ana@example.org");
}

TEST(Contact, ACopyKeepsItsOwnExtras) {
  Contact original{.id = "ct-1"};
  EXPECT_FALSE(original.extras.allocated());
  EXPECT_TRUE(original.extras->merged_into.empty());
  original.extras.edit().attributes["plan"] = "pro";
  Contact copy = original;
  copy.extras.edit().attributes["plan"] = "free";
  copy.extras.edit().merged_into = "ct-2";
  EXPECT_EQ(original.extras->attributes.at("plan"), "pro");
  EXPECT_TRUE(original.extras->merged_into.empty());
  EXPECT_EQ(copy.extras->merged_into, "ct-2");
}

TEST(Contact, KeepsOneIdentityInline) {
  Contact c{.id = "ct-1"};
  c.identities.push_back(Identity{.channel = "email", .address = "ana@example.org"});
  EXPECT_TRUE(held_inside(c.identities)) << "no block of its own";
  c.identities.push_back(Identity{.channel = "sms", .address = "+4915112345678"});
  EXPECT_FALSE(held_inside(c.identities));
  EXPECT_EQ(c.identities.at(0).key(), "email:ana@example.org");
  EXPECT_EQ(c.identities.at(1).key(), "sms:+4915112345678");
}

TEST(SlaMetric, NamesAreTheStoredOnes) {
  EXPECT_STREQ(to_string(SlaMetric::kFirstResponse), "frt");
  EXPECT_STREQ(to_string(SlaMetric::kNextResponse), "nrt");
  EXPECT_STREQ(to_string(SlaMetric::kResolution), "rt");
}

}  // namespace
}  // namespace switchboard::router
