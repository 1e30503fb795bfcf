// One customer, one conversation, whatever the channel (DESIGN.md "Concepts").

#include <algorithm>

#include "fixture.h"

namespace switchboard::testing {
namespace {

using OmnichannelTest = SwitchboarddTest;

int count_kind(const v1::GetContextResponse& context, v1::Event::KindCase kind) {
  return static_cast<int>(std::count_if(context.events().begin(), context.events().end(),
                                        [&](const v1::Event& e) { return e.kind_case() == kind; }));
}

TEST_F(OmnichannelTest, ChatThenEmailThenPhoneIsOneConversationWithThreeLegs) {
  auto chat = admin_->ingest("chat", "visitor-42", "Hi, my order has not arrived");
  ASSERT_OK(chat);
  const std::string contact = chat->contact_id();
  const std::string conversation = chat->conversation_id();

  auto email_link = admin_->link_identity(contact, "email", "Ana.Lopez@Example.ORG");
  ASSERT_OK(email_link);
  auto email = admin_->ingest("email", "ana.lopez@example.org", "Following up by mail");
  ASSERT_OK(email);
  EXPECT_EQ(email->conversation_id(), conversation);
  EXPECT_EQ(email->contact_id(), contact);

  // National format; the daemon's default_phone_region is US.
  auto phone_link = admin_->link_identity(contact, "phone", "(415) 555-0100");
  ASSERT_OK(phone_link);
  const auto& identities = phone_link->identities();
  EXPECT_TRUE(std::any_of(identities.begin(), identities.end(), [](const v1::Identity& id) {
    return id.channel() == "phone" && id.address() == "+14155550100";
  }));
  auto phone = admin_->ingest("phone", "+1 415 555 0100", "Calling about the order");
  ASSERT_OK(phone);
  EXPECT_EQ(phone->conversation_id(), conversation);

  auto current = admin_->get_conversation(conversation);
  ASSERT_OK(current);
  ASSERT_EQ(current->legs_size(), 3);
  EXPECT_EQ(current->legs(0).channel(), "chat");
  EXPECT_EQ(current->legs(1).channel(), "email");
  EXPECT_EQ(current->legs(1).address(), "ana.lopez@example.org");
  EXPECT_EQ(current->legs(2).channel(), "phone");
  EXPECT_EQ(current->legs(2).address(), "+14155550100");
  EXPECT_EQ(current->active_channel(), "phone");

  auto context = admin_->get_context(conversation);
  ASSERT_OK(context);
  EXPECT_EQ(context->contact().id(), contact);
  EXPECT_EQ(context->contact().identities_size(), 3);
  EXPECT_EQ(context->conversation().id(), conversation);
  EXPECT_EQ(count_kind(*context, v1::Event::kChannelSwitched), 2);
  std::vector<std::string> texts;
  for (uint64_t expected_seq = 1; const auto& event : context->events()) {
    EXPECT_EQ(event.seq(), expected_seq++) << "events come in seq order, without gaps";
    if (event.has_message()) texts.push_back(event.message().text());
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"Hi, my order has not arrived", "Following up by mail",
                                             "Calling about the order"}));

  auto by_identity = admin_->get_context("email", "ANA.LOPEZ@example.org");
  ASSERT_OK(by_identity);
  EXPECT_EQ(by_identity->conversation().id(), conversation);
  EXPECT_EQ(by_identity->contact().identities_size(), 3);

  auto all = admin_->list_conversations();
  ASSERT_OK(all);
  EXPECT_EQ(all->conversations_size(), 1);
}

TEST_F(OmnichannelTest, RedeliveredMessageIsAnsweredAgainAndAddsNothing) {
  auto first = admin_->ingest("chat", "visitor-7", "hello", "msg-1");
  ASSERT_OK(first);
  EXPECT_FALSE(first->duplicate());
  const auto before = admin_->get_conversation(first->conversation_id());
  ASSERT_OK(before);

  auto again = admin_->ingest("chat", "visitor-7", "hello", "msg-1");
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->contact_id(), first->contact_id());
  EXPECT_EQ(again->conversation_id(), first->conversation_id());
  EXPECT_EQ(again->seq(), first->seq());

  const auto after = admin_->get_conversation(first->conversation_id());
  ASSERT_OK(after);
  EXPECT_EQ(after->last_seq(), before->last_seq());
}

}  // namespace
}  // namespace switchboard::testing
