#include "services.h"
#include "unary_call.h"

namespace switchboard::daemon {
namespace {

// The first required field that is empty, as the status that names it.
std::optional<grpc::Status> missing(std::initializer_list<std::pair<std::string_view, bool>> fields) {
  for (const auto& [field, present] : fields) {
    if (!present) return invalid_argument(field, "required");
  }
  return std::nullopt;
}

}  // namespace

Unary* ContactService::GetContact(Ctx* context, const v1::GetContactRequest* request, v1::Contact* response) {
  auto call = start(context, "ContactService.GetContact");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"contact_id", !request->contact_id().empty()}})) return call.finish(*bad);
  router_.get_contact(request->contact_id(), call.answer<model::Contact>(response));
  return call.reactor();
}

Unary* ContactService::FindContact(Ctx* context, const v1::FindContactRequest* request, v1::Contact* response) {
  auto call = start(context, "ContactService.FindContact");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"identity", request->has_identity()}})) return call.finish(*bad);
  router_.find_contact(from_proto(request->identity()), call.answer<model::Contact>(response));
  return call.reactor();
}

Unary* ContactService::UpdateContact(Ctx* context, const v1::UpdateContactRequest* request, v1::Contact* response) {
  auto call = start(context, "ContactService.UpdateContact");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"contact_id", !request->contact_id().empty()}})) return call.finish(*bad);
  model::ContactUpdate update;
  update.display_name = request->display_name();
  update.set_attributes = {request->set_attributes().begin(), request->set_attributes().end()};
  update.remove_attributes = {request->remove_attributes().begin(), request->remove_attributes().end()};
  router_.update_contact(request->contact_id(), std::move(update), call.answer<model::Contact>(response));
  return call.reactor();
}

Unary* ContactService::LinkIdentity(Ctx* context, const v1::LinkIdentityRequest* request, v1::Contact* response) {
  auto call = start(context, "ContactService.LinkIdentity");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"contact_id", !request->contact_id().empty()}, {"identity", request->has_identity()}})) {
    return call.finish(*bad);
  }
  router_.link_identity(request->contact_id(), from_proto(request->identity()), call.actor(),
                        call.answer<model::Contact>(response));
  return call.reactor();
}

Unary* ContactService::UnlinkIdentity(Ctx* context, const v1::UnlinkIdentityRequest* request, v1::Contact* response) {
  auto call = start(context, "ContactService.UnlinkIdentity");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"contact_id", !request->contact_id().empty()}, {"identity", request->has_identity()}})) {
    return call.finish(*bad);
  }
  router_.unlink_identity(request->contact_id(), from_proto(request->identity()), call.actor(),
                          call.answer<model::Contact>(response));
  return call.reactor();
}

Unary* ContactService::MergeContacts(Ctx* context, const v1::MergeContactsRequest* request,
                                     v1::MergeContactsResponse* response) {
  auto call = start(context, "ContactService.MergeContacts");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"target_contact_id", !request->target_contact_id().empty()},
                          {"source_contact_id", !request->source_contact_id().empty()}})) {
    return call.finish(*bad);
  }
  router_.merge_contacts(request->target_contact_id(), request->source_contact_id(), call.actor(),
                         call.answer<model::MergeResult>(response, [](const model::MergeResult& merged, auto& out) {
                           to_proto(merged.contact, *out.mutable_contact());
                           out.set_merge_id(merged.merge_id);
                         }));
  return call.reactor();
}

Unary* ContactService::UnmergeContact(Ctx* context, const v1::UnmergeContactRequest* request,
                                      v1::UnmergeContactResponse* response) {
  auto call = start(context, "ContactService.UnmergeContact");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"merge_id", !request->merge_id().empty()}})) return call.finish(*bad);
  router_.unmerge_contact(request->merge_id(), call.actor(),
                          call.answer<model::UnmergeResult>(response, [](const model::UnmergeResult& r, auto& out) {
                            to_proto(r.target, *out.mutable_target());
                            to_proto(r.restored, *out.mutable_restored());
                          }));
  return call.reactor();
}

Unary* ContactService::DeleteContact(Ctx* context, const v1::DeleteContactRequest* request,
                                     v1::DeleteContactResponse* response) {
  auto call = start(context, "ContactService.DeleteContact");
  if (!call.admitted()) return call.reactor();
  if (auto bad = missing({{"contact_id", !request->contact_id().empty()}})) return call.finish(*bad);
  router_.delete_contact(request->contact_id(),
                         call.answer<model::EraseResult>(response, [](const model::EraseResult& erased, auto& out) {
                           out.set_conversations_deleted(erased.conversations);
                           out.set_events_deleted(erased.events);
                         }));
  return call.reactor();
}

}  // namespace switchboard::daemon
