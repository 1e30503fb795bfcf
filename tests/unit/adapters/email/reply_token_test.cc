#include "email/reply_token.h"

#include <gtest/gtest.h>

namespace switchboard::adapters::email {
namespace {

TEST(ReplyTokensTest, ReplyAddressNamesItsConversation) {
  ReplyTokens tokens("0123456789abcdef-secret", "Reply.Example.com");
  const std::string address = tokens.reply_address("cv_0123456789ab00000001");
  EXPECT_TRUE(address.starts_with("reply+cv_0123456789ab00000001."));
  EXPECT_TRUE(address.ends_with("@reply.example.com"));
  EXPECT_LE(address.find('@'), 64u);  // RFC 5321 local part
  EXPECT_EQ(tokens.conversation_of_reply_address(address), "cv_0123456789ab00000001");
  std::string upper = address;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(tokens.conversation_of_reply_address(upper), "cv_0123456789ab00000001");  // MTAs may change case
}

std::string folded(std::string s, int (*fold)(int)) {
  for (auto& c : s) c = static_cast<char>(fold(static_cast<unsigned char>(c)));
  return s;
}

// Ids mix cases ("cv_P7C0-x_Yz9aB"); a relay that folds the address either way must
// not lose the conversation, nor make another one's id.
TEST(ReplyTokensTest, AMixedCaseIdSurvivesFoldedAddresses) {
  ReplyTokens tokens("0123456789abcdef-secret", "reply.example.com");
  const std::string id = "cv_P7C0-x_Yz9aB";
  for (const std::string& address : {tokens.reply_address(id), tokens.message_id(id, 12)}) {
    SCOPED_TRACE(address);
    for (const std::string& seen : {address, folded(address, ::tolower), folded(address, ::toupper)}) {
      const bool reply = address.starts_with("reply+");
      EXPECT_EQ(reply ? tokens.conversation_of_reply_address(seen) : tokens.conversation_of_message_id(seen), id);
    }
  }
  std::string wrong_case = tokens.reply_address(id);
  wrong_case.replace(wrong_case.find(".") + 1, 3, "fff");  // other characters marked upper case
  EXPECT_FALSE(tokens.conversation_of_reply_address(wrong_case));
  std::string not_hex = tokens.reply_address(id);
  not_hex.replace(not_hex.find(".") + 1, 1, "z");
  EXPECT_FALSE(tokens.conversation_of_reply_address(not_hex));
}

TEST(ReplyTokensTest, ForgedOrForeignTokensAreRefused) {
  ReplyTokens tokens("0123456789abcdef-secret", "reply.example.com");
  ReplyTokens other("another-secret-0123456789", "reply.example.com");
  const std::string mine = tokens.reply_address("cv_a");
  EXPECT_FALSE(other.conversation_of_reply_address(mine));
  std::string swapped = mine;
  swapped.replace(swapped.find("cv_a"), 4, "cv_b");  // someone else's conversation, same MAC
  EXPECT_TRUE(tokens.is_reply_address(swapped));
  EXPECT_FALSE(tokens.conversation_of_reply_address(swapped));
  EXPECT_FALSE(tokens.conversation_of_reply_address("reply+cv_a@reply.example.com"));
  EXPECT_FALSE(tokens.conversation_of_reply_address("reply+@reply.example.com"));
  EXPECT_FALSE(tokens.is_reply_address(tokens.reply_address("cv_a") + ".evil.org"));
}

TEST(ReplyTokensTest, MessageIdsNameTheirConversation) {
  ReplyTokens tokens("0123456789abcdef-secret", "reply.example.com");
  const std::string id = tokens.message_id("cv_x1", 7);
  EXPECT_EQ(tokens.conversation_of_message_id(id), "cv_x1");
  EXPECT_EQ(tokens.conversation_of_message_id("<" + id + ">"), "cv_x1");
  EXPECT_NE(tokens.message_id("cv_x1", 8), id);
  std::string forged = id;
  forged.replace(forged.find(".7."), 3, ".8.");
  EXPECT_FALSE(tokens.conversation_of_message_id(forged));
  EXPECT_FALSE(tokens.conversation_of_message_id("CAF=abc@mail.gmail.com"));
  EXPECT_FALSE(tokens.conversation_of_message_id(""));
}

}  // namespace
}  // namespace switchboard::adapters::email
