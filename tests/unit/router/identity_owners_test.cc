// The Desk's index from identities to the contacts that hold them (desk_state.h),
// which keeps no copy of the identities: each lookup checks the holder's own list.

#include <string>

#include <gtest/gtest.h>

#include "desk_state.h"

namespace switchboard::router {
namespace {

ContactSlot contact(const std::string& id, std::vector<Identity> identities) {
  ContactSlot slot;
  slot.data.id = id;
  slot.data.identities.assign(identities.begin(), identities.end());
  slot.has_record = true;
  return slot;
}

const Identity kAna{"email", "ana@example.org"};
const Identity kAnaPhone{"phone", "+14155550100"};
const Identity kBen{"email", "ben@example.org"};

// Ana holds kAna and kAnaPhone, Ben kBen.
IdentityOwners owners_of(ContactSlot& ana, ContactSlot& ben) {
  IdentityOwners owners;
  owners.set(kAna, &ana);
  owners.set(kAnaPhone, &ana);
  owners.set(kBen, &ben);
  return owners;
}

TEST(IdentityOwners, FindsTheContactThatListsTheIdentity) {
  ContactSlot ana = contact("ct_ana", {kAna, kAnaPhone});
  ContactSlot ben = contact("ct_ben", {kBen});
  IdentityOwners owners = owners_of(ana, ben);
  EXPECT_EQ(owners.size(), 3u);
  EXPECT_EQ(owners.find(kAna), &ana);
  EXPECT_EQ(owners.find("phone", "+14155550100"), &ana);
  EXPECT_EQ(owners.find(kBen), &ben);
  EXPECT_EQ(owners.find("email", "nobody@example.org"), nullptr);
  EXPECT_EQ(owners.find("sms", "+14155550100"), nullptr) << "the channel is part of the identity";
  Identity unverified = kAna;
  unverified.verified = !kAna.verified;
  EXPECT_EQ(owners.find(unverified), &ana) << "found by channel and address alone";
}

TEST(IdentityOwners, SetAgainChangesHandsWithoutASecondEntry) {
  ContactSlot ana = contact("ct_ana", {kAna});
  ContactSlot other = contact("ct_other", {});
  IdentityOwners owners;
  owners.set(kAna, &ana);
  owners.set(kAna, &ana);
  EXPECT_EQ(owners.size(), 1u);
  // As a merge does: the new holder is set while the old one still lists it.
  owners.set(kAna, &other);
  ana.data.identities.clear();
  other.data.identities.push_back(kAna);
  EXPECT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners.find(kAna), &other);
}

TEST(IdentityOwners, EraseForgetsOnlyFromTheNamedHolder) {
  ContactSlot ana = contact("ct_ana", {kAna, kAnaPhone});
  ContactSlot ben = contact("ct_ben", {kBen});
  IdentityOwners owners = owners_of(ana, ben);
  owners.erase(kAna, &ben);
  EXPECT_EQ(owners.find(kAna), &ana) << "ben does not hold it";
  owners.erase(kAna, &ana);
  EXPECT_EQ(owners.find(kAna), nullptr);
  EXPECT_EQ(owners.find(kAnaPhone), &ana) << "the contact's other identity stays";
  owners.erase(kBen);
  EXPECT_EQ(owners.find(kBen), nullptr);
  EXPECT_EQ(owners.size(), 1u);
}

TEST(IdentityOwners, ManyContactsEachFindTheirOwn) {
  std::vector<ContactSlot> slots;
  slots.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    slots.push_back(contact("ct_" + std::to_string(i), {{"email", "c" + std::to_string(i) + "@example.org"}}));
  }
  IdentityOwners owners;
  for (auto& slot : slots) owners.set(slot.data.identities.front(), &slot);  // grows and rehashes
  for (auto& slot : slots) EXPECT_EQ(owners.find(slot.data.identities.front()), &slot);
  EXPECT_EQ(owners.size(), 1000u);
}

}  // namespace
}  // namespace switchboard::router
