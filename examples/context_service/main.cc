// A service that reads conversation context the way a CRM or a bot does, over gRPC:
// it finds the contact behind an identity, reads the conversation's context, writes
// its own account number into the conversation's attributes, and follows the
// conversation's events from the beginning. Run by ctest against a fresh switchboardd
// (examples/with_switchboardd.py); exits non-zero if any step did not happen.
//
//   with_switchboardd.py build/router/daemon/switchboardd build/examples/context_service/context_service

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "switchboard/v1/contact.grpc.pb.h"
#include "switchboard/v1/conversation.grpc.pb.h"
#include "switchboard/v1/events.grpc.pb.h"
#include "switchboard/v1/ingest.grpc.pb.h"

namespace v1 = switchboard::v1;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::cerr << "context_service: " << name << " is not set (run it through with_switchboardd.py)\n";
    std::exit(2);
  }
  return value;
}

// Every call names its key and has a deadline.
void prepare(grpc::ClientContext& context, const std::string& key) {
  context.AddMetadata("authorization", "Bearer " + key);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

void must(const grpc::Status& status, const char* what) {
  if (status.ok()) return;
  std::cerr << "context_service: " << what << ": " << status.error_code() << " " << status.error_message() << "\n";
  std::exit(EXIT_FAILURE);
}

bool check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << std::endl;
  return ok;
}

}  // namespace

int main() {
  auto channel = grpc::CreateChannel(env("SWITCHBOARD_ADDRESS"), grpc::InsecureChannelCredentials());
  const std::string adapter_key = env("SWITCHBOARD_ADAPTER_KEY");
  const std::string crm_key = env("SWITCHBOARD_SERVICE_KEY");

  // A customer writes twice on the web chat (here the chat channel is us, with an
  // adapter key; in production it is the chat adapter).
  auto ingest = v1::IngestService::NewStub(channel);
  for (const char* text : {"I want to upgrade to the Business plan", "And my last invoice looks wrong"}) {
    grpc::ClientContext context;
    prepare(context, adapter_key);
    v1::IngestRequest request;
    request.mutable_message()->set_channel("chat");
    request.mutable_message()->set_address("visitor-7f3a");
    request.mutable_message()->set_display_name("Ana Lopez");
    request.mutable_message()->set_text(text);
    v1::IngestResponse response;
    must(ingest->Ingest(&context, request, &response), "Ingest");
  }

  // --- the CRM, with a service-role key: read only, plus attributes -----------------
  v1::Identity identity;
  identity.set_channel("chat");
  identity.set_address("visitor-7f3a");

  auto contacts = v1::ContactService::NewStub(channel);
  v1::Contact contact;
  {
    grpc::ClientContext context;
    prepare(context, crm_key);
    v1::FindContactRequest request;
    *request.mutable_identity() = identity;
    must(contacts->FindContact(&context, request, &contact), "FindContact");
  }

  auto conversations = v1::ConversationService::NewStub(channel);
  v1::GetContextResponse context_response;
  {
    grpc::ClientContext context;
    prepare(context, crm_key);
    v1::GetContextRequest request;
    *request.mutable_identity() = identity;
    request.set_last_events(20);
    must(conversations->GetContext(&context, request, &context_response), "GetContext");
  }
  const auto& conversation = context_response.conversation();
  std::cout << "contact " << contact.id() << " (" << contact.display_name() << "), conversation " << conversation.id()
            << " in queue " << conversation.queue() << ", state " << v1::ConversationState_Name(conversation.state())
            << "\n";
  int messages = 0;
  for (const auto& event : context_response.events()) {
    if (!event.has_message()) continue;
    ++messages;
    std::cout << "  #" << event.seq() << " " << event.message().channel() << ": " << event.message().text() << "\n";
  }
  bool ok = check(contact.display_name() == "Ana Lopez", "FindContact found the customer by their chat identity");
  ok &= check(context_response.contact().id() == contact.id() && messages == 2,
              "GetContext has the contact and both messages");

  {
    grpc::ClientContext context;
    prepare(context, crm_key);
    v1::SetAttributesRequest request;
    request.set_conversation_id(conversation.id());
    (*request.mutable_set())["crm.account"] = "ACME-0042";
    (*request.mutable_set())["crm.plan"] = "Team";
    v1::ConversationUpdate update;
    must(conversations->SetAttributes(&context, request, &update), "SetAttributes");
    ok &= check(update.conversation().attributes().at("crm.account") == "ACME-0042", "SetAttributes took");
  }

  // Follow the conversation from its first event: what a bot or an analytics job does
  // (and resumes from the last cursor it saw after a restart).
  auto events = v1::EventService::NewStub(channel);
  grpc::ClientContext subscribe_context;
  prepare(subscribe_context, crm_key);
  v1::SubscribeRequest subscribe;
  subscribe.add_conversation_ids(conversation.id());
  subscribe.set_from_beginning(true);
  auto stream = events->Subscribe(&subscribe_context, subscribe);
  v1::Event event;
  int streamed_messages = 0;
  std::string last_cursor;
  while (stream->Read(&event)) {
    last_cursor = event.cursor();
    streamed_messages += event.has_message();
    if (event.has_attributes_changed()) break;  // our own change: we are caught up
  }
  subscribe_context.TryCancel();
  stream->Finish();
  ok &= check(streamed_messages == 2 && event.has_attributes_changed(),
              "Subscribe streamed the messages, then our attribute change (cursor " + last_cursor + ")");
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
