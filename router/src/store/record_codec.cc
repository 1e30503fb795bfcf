#include "record_codec.h"

#include <array>
#include <charconv>
#include <concepts>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace switchboard::router {
namespace {

namespace json = boost::json;
using std::chrono::microseconds;
using std::chrono::seconds;
using namespace std::string_view_literals;

// ---- enums: stored by name, so reordering an enum never changes what a row means.

template <typename E>
constexpr std::array<std::string_view, 0> kNames{};
template <>
constexpr std::array kNames<ConversationState> = {"new"sv,     "bot"sv,      "queued"sv, "assigned"sv,
                                                  "snoozed"sv, "resolved"sv, "closed"sv};
template <>
constexpr std::array kNames<Direction> = {"inbound"sv, "outbound"sv, "note"sv};
// The model's own names (model.h), the ones its to_string gives.
template <std::size_t N>
constexpr std::array<std::string_view, N> views_of(const std::array<const char*, N>& names) {
  std::array<std::string_view, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = names[i];
  return out;
}
template <>
constexpr std::array kNames<DeliveryStatus> = views_of(kDeliveryStatusNames);
template <>
constexpr std::array kNames<AgentStatus> = views_of(kAgentStatusNames);
template <>
constexpr std::array kNames<CallState> = views_of(kCallStateNames);
template <>
constexpr std::array kNames<SlaMetric> = views_of(kSlaMetricNames);

// Each table names every enumerator, up to the last one these asserts know of.
static_assert(kNames<ConversationState>.size() == static_cast<std::size_t>(ConversationState::kClosed) + 1);
static_assert(kNames<Direction>.size() == static_cast<std::size_t>(Direction::kNote) + 1);
static_assert(kNames<DeliveryStatus>.size() == static_cast<std::size_t>(DeliveryStatus::kFailed) + 1);
static_assert(kNames<AgentStatus>.size() == static_cast<std::size_t>(AgentStatus::kOffline) + 1);
static_assert(kNames<CallState>.size() == static_cast<std::size_t>(CallState::kMissed) + 1);
static_assert(kNames<SlaMetric>.size() == static_cast<std::size_t>(SlaMetric::kResolution) + 1);

// The "kind" of each EventBody alternative, in the variant's order.
constexpr std::array kKinds = {"message"sv,
                               "state_changed"sv,
                               "channel_switched"sv,
                               "assigned"sv,
                               "unassigned"sv,
                               "transferred"sv,
                               "handed_off"sv,
                               "snoozed"sv,
                               "woke"sv,
                               "resolved"sv,
                               "reopened"sv,
                               "closed"sv,
                               "conversation_opened"sv,
                               "attributes_changed"sv,
                               "labels_changed"sv,
                               "priority_changed"sv,
                               "delivery_updated"sv,
                               "contact_changed"sv,
                               "sla_warning"sv,
                               "sla_breached"sv,
                               "survey_answered"sv,
                               "overflowed"sv,
                               "call"sv};
static_assert(kKinds.size() == std::variant_size_v<EventBody>);

std::string_view text_of(const json::value& in) {
  const json::string& text = in.as_string();
  return {text.data(), text.size()};
}

std::size_t index_of(std::string_view name, std::span<const std::string_view> names, std::string_view what) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(name) + "'");
}

// ---- values that Boost.JSON does not convert the way we store them.

template <typename T>
json::value to_value(const T& in, const json::storage_ptr& sp);
template <typename T>
void from_value(const json::value& in, T& out);

template <typename E>
requires std::is_enum_v<E> json::value enum_to_value(E in, const json::storage_ptr& sp) {
  return json::string(kNames<E>.at(static_cast<std::size_t>(in)), sp);
}

json::value body_to_value(const EventBody& body, const json::storage_ptr& sp);
void body_from_value(const json::value& in, EventBody& out);

template <typename T>
json::value to_value(const T& in, const json::storage_ptr& sp) {
  if constexpr (std::is_enum_v<T>) {
    return enum_to_value(in, sp);
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    return std::chrono::duration_cast<microseconds>(in.time_since_epoch()).count();
  } else if constexpr (std::is_same_v<T, seconds>) {
    return in.count();
  } else if constexpr (std::is_same_v<T, std::optional<Timestamp>> || std::is_same_v<T, OptionalTime>) {
    return in ? to_value(*in, sp) : json::value(nullptr, sp);
  } else if constexpr (std::is_same_v<T, EventBody>) {
    return body_to_value(in, sp);
  } else {
    return json::value_from(in, sp);
  }
}

template <typename T>
void from_value(const json::value& in, T& out) {
  if constexpr (std::is_enum_v<T>) {
    out = static_cast<T>(index_of(text_of(in), kNames<T>, "name"));
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    out = Timestamp(std::chrono::duration_cast<Timestamp::duration>(microseconds(in.to_number<int64_t>())));
  } else if constexpr (std::is_same_v<T, seconds>) {
    out = seconds(in.to_number<int64_t>());
  } else if constexpr (std::is_same_v<T, std::optional<Timestamp>> || std::is_same_v<T, OptionalTime>) {
    if (in.is_null()) {
      out.reset();
    } else {
      from_value(in, out.emplace());
    }
  } else if constexpr (std::is_same_v<T, EventBody>) {
    body_from_value(in, out);
  } else {
    out = json::value_to<T>(in);
  }
}

// ---- a field at its default is left out. A new conversation's record is then half
// the text: less to write on every commit, and less to parse at start-up, since
// decoding leaves absent fields at their defaults. A field's default is therefore part
// of the stored format: change one only together with a migration.

template <typename T>
void put(std::string& out, const T& in);

// The text of each field of a default-constructed record, in field order.
template <typename R>
const std::vector<std::string>& default_texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> all;
    auto collect = [&all](std::string_view, const auto& field) { put(all.emplace_back(), field); };
    const R defaults{};
    fields(collect, defaults);
    return all;
  }();
  return texts;
}

// Counts a record's fields as they are written, and tells those at their default.
class DefaultFields {
 public:
  DefaultFields() = default;
  explicit DefaultFields(const std::vector<std::string>& texts) : texts_(&texts) {}
  // Whether the field written next, whose text is `text`, is at its default.
  bool next_is_default(std::string_view text) {
    const std::size_t field = next_++;
    return texts_ != nullptr && field < texts_->size() && (*texts_)[field] == text;
  }

 private:
  const std::vector<std::string>* texts_ = nullptr;
  std::size_t next_ = 0;
};

// ---- field lists: written once per record, used to encode and to decode.

// A field kept in an OutOfLine block, as the Reader gets it: the block is allocated
// only for a field the record holds, so a record without any keeps none. Encoding
// reads through the block instead (`extra` on a const record), getting the defaults
// of an empty one, which are left out like any field at its default.
template <typename Extras, typename T>
struct ExtraField {
  OutOfLine<Extras>& box;
  T Extras::*member;
};
template <typename Extras, typename T>
ExtraField<Extras, T> extra(OutOfLine<Extras>& box, T Extras::*member) {
  return {box, member};
}
template <typename Extras, typename T>
const T& extra(const OutOfLine<Extras>& box, T Extras::*member) {
  return (*box).*member;
}

// Puts each field into an object.
struct Writer {
  json::object& object;
  DefaultFields defaults;
  template <typename T>
  void operator()(std::string_view key, const T& field) {
    std::string text;
    put(text, field);
    if (!defaults.next_is_default(text)) object.insert_or_assign(key, to_value(field, object.storage()));
  }
};

// Reads each field that is present; absent ones keep their defaults. We write records
// in field order, leaving out fields at their default, so `in_order` first takes a
// field from the next member or not at all: a search by name for each absent field
// was a tenth of start-up. Whether that read every member shows at the end
// (all_read); text in another order, or with fields this binary does not know, is
// then read again by name.
struct Reader {
  const json::object& object;
  bool in_order = true;
  std::size_t next = 0;

  template <typename T>
  void operator()(std::string_view key, T& field) {
    if (const json::value* in = find(key)) from_value(*in, field);
  }
  // A field of an OutOfLine block: allocated only when the record holds it.
  template <typename Extras, typename T>
  void operator()(std::string_view key, ExtraField<Extras, T> field) {
    if (const json::value* in = find(key)) from_value(*in, field.box.edit().*field.member);
  }
  // `others`: members after the fields, read by the caller (an event body's "kind").
  bool all_read(std::size_t others) const { return next + others == object.size(); }

 private:
  const json::value* find(std::string_view key) {
    if (next < object.size()) {
      const json::key_value_pair& member = object.begin()[next];
      if (member.key() == key) {
        ++next;
        return &member.value();
      }
    }
    return in_order ? nullptr : object.if_contains(key);
  }
};

// A record of type T, const (encoding) or not (decoding).
template <typename R, typename T>
concept Is = std::same_as<std::remove_const_t<R>, T>;

void fields(auto& io, Is<Identity> auto& x) {
  io("channel", x.channel);
  io("address", x.address);
  io("verified", x.verified);
}
void fields(auto& io, Is<Contact> auto& x) {
  io("id", x.id);
  io("display_name", x.display_name);
  io("identities", x.identities);
  io("attributes", extra(x.extras, &ContactExtras::attributes));
  io("created_at", x.created_at);
  io("merged_into", extra(x.extras, &ContactExtras::merged_into));
}
void fields(auto& io, Is<ChannelLeg> auto& x) {
  io("channel", x.channel);
  io("address", x.address);
  io("first_at", x.first_at);
  io("last_at", x.last_at);
}
void fields(auto& io, Is<AttachmentRef> auto& x) {
  io("url", x.url);
  io("content_type", x.content_type);
  io("filename", x.filename);
  io("size_bytes", x.size_bytes);
}
void fields(auto& io, Is<Message> auto& x) {
  io("direction", x.direction);
  io("channel", x.channel);
  io("address", x.address);
  io("text", x.text);
  io("attachments", x.attachments);
  io("external_id", x.external_id);
  io("status", x.status);
  io("author_id", x.author_id);
  io("metadata", x.metadata);
}
void fields(auto& io, Is<StateChanged> auto& x) {
  io("from", x.from);
  io("to", x.to);
  io("trigger", x.trigger);
}
void fields(auto& io, Is<ChannelSwitched> auto& x) {
  io("from_channel", x.from_channel);
  io("to_channel", x.to_channel);
}
void fields(auto& io, Is<Assigned> auto& x) { io("agent_id", x.agent_id); }
void fields(auto& io, Is<Unassigned> auto& x) {
  io("agent_id", x.agent_id);
  io("reason", x.reason);
}
void fields(auto& io, Is<Transferred> auto& x) {
  io("from_agent_id", x.from_agent_id);
  io("to_agent_id", x.to_agent_id);
  io("to_queue", x.to_queue);
  io("reason", x.reason);
  io("transfer_count", x.transfer_count);
}
void fields(auto& io, Is<HandedOff> auto& x) {
  io("reason", x.reason);
  io("queue", x.queue);
}
void fields(auto& io, Is<Snoozed> auto& x) { io("until", x.until); }
void fields(auto&, Is<Woke> auto&) {}
void fields(auto& io, Is<Resolved> auto& x) { io("by", x.by); }
void fields(auto& io, Is<Reopened> auto& x) { io("reopen_count", x.reopen_count); }
void fields(auto&, Is<Closed> auto&) {}
void fields(auto& io, Is<ConversationOpened> auto& x) {
  io("contact_id", x.contact_id);
  io("queue", x.queue);
  io("previous_conversation_id", x.previous_conversation_id);
}
void fields(auto& io, Is<AttributesChanged> auto& x) {
  io("set", x.set);
  io("removed", x.removed);
}
void fields(auto& io, Is<LabelsChanged> auto& x) { io("labels", x.labels); }
void fields(auto& io, Is<PriorityChanged> auto& x) { io("priority", x.priority); }
void fields(auto& io, Is<DeliveryUpdated> auto& x) {
  io("message_seq", x.message_seq);
  io("status", x.status);
  io("reason", x.reason);
}
void fields(auto& io, Is<ContactChanged> auto& x) {
  io("contact_id", x.contact_id);
  io("change", x.change);
  io("other_contact_id", x.other_contact_id);
}
void fields(auto& io, Is<SlaWarning> auto& x) {
  io("metric", x.metric);
  io("due_at", x.due_at);
}
void fields(auto& io, Is<SlaBreached> auto& x) {
  io("metric", x.metric);
  io("due_at", x.due_at);
}
void fields(auto& io, Is<SurveyAnswered> auto& x) {
  io("survey", x.survey);
  io("score", x.score);
}
void fields(auto& io, Is<Overflowed> auto& x) {
  io("from_queue", x.from_queue);
  io("to_queue", x.to_queue);
}
void fields(auto& io, Is<CallEvent> auto& x) {
  io("call_id", x.call_id);
  io("channel", x.channel);
  io("address", x.address);
  io("state", x.state);
  io("agent_id", x.agent_id);
  io("duration", x.duration);
  io("reason", x.reason);
}
void fields(auto& io, Is<Call> auto& x) {
  io("call_id", x.call_id);
  io("channel", x.channel);
  io("state", x.state);
  io("agent_id", x.agent_id);
  io("agent_sip_uri", x.agent_sip_uri);
  io("reason", x.reason);
  io("seq", x.seq);
  io("last_seq", x.last_seq);
  io("started_at", x.started_at);
}
void fields(auto& io, Is<SlaClock> auto& x) {
  io("metric", x.metric);
  io("started_at", x.started_at);
  io("used", x.used);
  io("running_since", x.running_since);
  io("warned", x.warned);
  io("breached", x.breached);
  io("warning_at", x.warning_at);
  io("due_at", x.due_at);
}
void fields(auto& io, Is<OpenHours> auto& x) {
  io("weekday", x.weekday);
  io("open_minute", x.open_minute);
  io("close_minute", x.close_minute);
}
void fields(auto& io, Is<BusinessHours> auto& x) {
  io("time_zone", x.time_zone);
  io("weekly", x.weekly);
  io("holidays", x.holidays);
}
void fields(auto& io, Is<SlaTarget> auto& x) {
  io("target", x.target);
  io("warning", x.warning);
}
void fields(auto& io, Is<SlaPolicy> auto& x) {
  io("first_response", x.first_response);
  io("next_response", x.next_response);
  io("resolution", x.resolution);
  io("pause_while_waiting_on_customer", x.pause_while_waiting_on_customer);
}
void fields(auto& io, Is<Survey> auto& x) {
  io("kind", x.kind);
  io("text", x.text);
  io("window", x.window);
}
void fields(auto& io, Is<WaitUpdates> auto& x) {
  io("enabled", x.enabled);
  io("interval", x.interval);
  io("text", x.text);
}
void fields(auto& io, Is<QueueRule> auto& x) {
  io("order", x.order);
  io("channel", x.channel);
  io("address", x.address);
  io("label", x.label);
  io("attribute", x.attribute);
}
void fields(auto& io, Is<Event> auto& x) {
  io("cursor", x.cursor);
  io("conversation_id", x.conversation_id);
  io("seq", x.seq);
  io("at", x.at);
  io("actor", x.actor);
  io("queue", x.queue);
  io("assignee_id", x.assignee_id);
  io("body", x.body);
}
void fields(auto& io, Is<Conversation> auto& x) {
  using E = ConversationExtras;
  io("id", x.id);
  io("contact_id", x.contact_id);
  io("state", x.state);
  io("active_channel", x.active_channel);
  io("legs", x.legs);
  io("assignee_id", x.assignee_id);
  io("queue", x.queue);
  io("priority", x.priority);
  io("labels", extra(x.extras, &E::labels));
  io("attributes", extra(x.extras, &E::attributes));
  io("transfer_count", extra(x.extras, &E::transfer_count));
  io("reopen_count", extra(x.extras, &E::reopen_count));
  io("created_at", x.created_at);
  io("updated_at", x.updated_at);
  io("last_seq", x.last_seq);
  io("previous_conversation_id", extra(x.extras, &E::previous_conversation_id));
  io("snoozed_until", extra(x.extras, &E::snoozed_until));
  io("resolved_at", x.resolved_at);
  io("last_inbound_at", x.last_inbound_at);
  io("queued_since", x.queued_since);
  io("overflow_at", extra(x.extras, &E::overflow_at));
  io("first_assigned_at", x.first_assigned_at);
  io("first_response_at", x.first_response_at);
  io("sla", x.sla);
  io("auto_replied_at", extra(x.extras, &E::auto_replied_at));
  io("survey_kind", extra(x.extras, &E::survey_kind));
  io("survey_until", extra(x.extras, &E::survey_until));
  io("csat", extra(x.extras, &E::csat));
  io("nps", extra(x.extras, &E::nps));
  io("wait_update_at", extra(x.extras, &E::wait_update_at));
  io("wait_update_position", extra(x.extras, &E::wait_update_position));
  io("wait_update_expected", extra(x.extras, &E::wait_update_expected));
  io("calls", extra(x.extras, &E::calls));
}
void fields(auto& io, Is<OutboxEntry> auto& x) {
  io("outbound_id", x.outbound_id);
  io("conversation_id", x.conversation_id);
  io("seq", x.seq);
  io("channel", x.channel);
  io("address", x.address);
  io("text", x.text);
  io("attachments", x.attachments);
  io("status", x.status);
  io("attempts", x.attempts);
  io("claimed_by", x.claimed_by);
  io("external_id", x.external_id);
  io("sent_at", x.sent_at);
}
void fields(auto& io, Is<Agent> auto& x) {
  io("id", x.id);
  io("name", x.name);
  io("status", x.status);
  io("skills", x.skills);
  io("capacity", x.capacity);
  io("wrap_up", x.wrap_up);
  io("sip_uri", x.sip_uri);
  io("status_since", x.status_since);
  io("wrap_up_until", x.wrap_up_until);
  io("idle_since", x.idle_since);
}
void fields(auto& io, Is<Queue> auto& x) {
  io("name", x.name);
  io("strategy", x.strategy);
  io("required_skills", x.required_skills);
  io("bot_id", x.bot_id);
  io("overflow_queue", x.overflow_queue);
  io("overflow_after", x.overflow_after);
  io("business_hours", x.business_hours);
  io("sla", x.sla);
  io("out_of_hours_reply", x.out_of_hours_reply);
  io("survey", x.survey);
  io("wait_updates", x.wait_updates);
  io("rules", x.rules);
  io("last_assigned_agent", x.last_assigned_agent);
  io("config_digest", x.config_digest);
}
void fields(auto& io, Is<Merge> auto& x) {
  io("id", x.id);
  io("target_id", x.target_id);
  io("source_id", x.source_id);
  io("moved_identities", x.moved_identities);
  io("moved_conversations", x.moved_conversations);
  io("took_display_name", x.took_display_name);
  io("undone", x.undone);
}
void fields(auto& io, Is<IngestResult> auto& x) {
  io("contact_id", x.contact_id);
  io("conversation_id", x.conversation_id);
  io("seq", x.seq);
  io("duplicate", x.duplicate);
}
void fields(auto& io, Is<SeenInbound> auto& x) {
  io("channel", x.channel);
  io("external_id", x.external_id);
  io("result", x.result);
}

template <typename T>
void write_record(json::value& out, const T& record) {
  Writer writer{out.emplace_object(), DefaultFields(default_texts<T>())};
  fields(writer, record);
}

template <typename T>
void read_record(const json::value& in, T& record, std::size_t read_by_caller = 0) {
  Reader reader{in.as_object()};  // throws when `in` is not an object
  fields(reader, record);
  if (reader.all_read(read_by_caller)) return;
  Reader by_name{in.as_object(), false};
  fields(by_name, record);
}

template <typename T>
T read_record(const json::value& in) {
  T record{};
  read_record(in, record);
  return record;
}

// ---- straight to text: the same JSON that serialize(value_from(record)) gives, byte
// for byte, written into one string without building a DOM first. Every durable
// commit encodes its records on the router's strand, and the DOM cost five times this.

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T, std::size_t N>
struct IsVector<absl::InlinedVector<T, N>> : std::true_type {};
template <typename T>
struct IsStringMap : std::false_type {};
template <typename V>
struct IsStringMap<std::map<std::string, V>> : std::true_type {};

// The letter of a two-character escape (`\n`), or 0 when `c` takes the `\u00XX` form.
constexpr char short_escape(unsigned char c) {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\b':
      return 'b';
    case '\t':
      return 't';
    case '\n':
      return 'n';
    case '\f':
      return 'f';
    case '\r':
      return 'r';
    default:
      return 0;
  }
}

// Escapes as Boost.JSON's serializer does: quote, backslash and control characters;
// everything else (UTF-8 included) as it is.
void put_string(std::string& out, std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* plain = in.data();  // start of the run not yet copied
  const char* const end = in.data() + in.size();
  for (const char* p = plain; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') [[likely]]
      continue;
    out.append(plain, p);
    plain = p + 1;
    if (const char letter = short_escape(c); letter != 0) {
      const char escaped[] = {'\\', letter};
      out.append(escaped, sizeof escaped);
    } else {
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escaped, sizeof escaped);
    }
  }
  out.append(plain, end);
  out += '"';
}

void put_integer(std::string& out, std::integral auto in) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, in).ptr);
}

// Writes `"key":value` pairs of one object. Field names are plain identifiers, written
// as they are; a map's keys are anyone's text and are escaped.
struct TextWriter {
  std::string& out;
  DefaultFields defaults;  // of the record written; none for a map
  char separator = '{';

  template <typename T>
  void operator()(std::string_view field_name, const T& field) {
    const std::size_t start = out.size();
    const char open[] = {separator, '"'};
    out.append(open, 2).append(field_name).append("\":", 2);
    const std::size_t value_at = out.size();
    put(out, field);
    if (defaults.next_is_default(std::string_view(out).substr(value_at))) {
      out.resize(start);
    } else {
      separator = ',';
    }
  }
  template <typename T>
  void entry(std::string_view key, const T& value) {
    out += separator;
    separator = ',';
    put_string(out, key);
    out += ':';
    put(out, value);
  }
  void close() {
    if (separator == '{') out += '{';  // no field at all
    out += '}';
  }
};

template <typename T>
void put(std::string& out, const T& in) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    put_string(out, in);
  } else if constexpr (std::is_same_v<T, bool>) {
    out += in ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    put_string(out, kNames<T>.at(static_cast<std::size_t>(in)));
  } else if constexpr (std::is_integral_v<T>) {
    put_integer(out, in);
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    put_integer(out, std::chrono::duration_cast<microseconds>(in.time_since_epoch()).count());
  } else if constexpr (std::is_same_v<T, seconds>) {
    put_integer(out, in.count());
  } else if constexpr (std::is_same_v<T, std::optional<Timestamp>> || std::is_same_v<T, OptionalTime>) {
    if (in) {
      put(out, *in);
    } else {
      out += "null";
    }
  } else if constexpr (std::is_same_v<T, EventBody>) {
    TextWriter writer{out};
    std::visit(
        [&](const auto& alternative) {
          writer.defaults = DefaultFields(default_texts<std::decay_t<decltype(alternative)>>());
          fields(writer, alternative);
        },
        in);
    writer("kind", kKinds[in.index()]);
    writer.close();
  } else if constexpr (IsVector<T>::value) {
    out += '[';
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (i > 0) out += ',';
      put(out, in[i]);
    }
    out += ']';
  } else if constexpr (IsStringMap<T>::value) {
    TextWriter writer{out};
    for (const auto& [key, value] : in) writer.entry(key, value);
    writer.close();
  } else {
    TextWriter writer{out, DefaultFields(default_texts<T>())};
    fields(writer, in);
    writer.close();
  }
}

// ---- EventBody: {"kind": "<alternative>", ...its fields}.

json::value body_to_value(const EventBody& body, const json::storage_ptr& sp) {
  json::value out(sp);
  std::visit([&](const auto& alternative) { write_record(out, alternative); }, body);
  out.get_object().insert_or_assign("kind", kKinds[body.index()]);
  return out;
}

template <std::size_t... I>
EventBody make_alternative(std::size_t index, std::index_sequence<I...>) {
  static constexpr EventBody (*kMakers[])() = {[] { return EventBody(std::in_place_index<I>); }...};
  return kMakers[index]();
}

void body_from_value(const json::value& in, EventBody& out) {
  const std::size_t index = index_of(text_of(in.at("kind")), kKinds, "event kind");
  out = make_alternative(index, std::make_index_sequence<std::variant_size_v<EventBody>>());
  std::visit([&](auto& alternative) { read_record(in, alternative, 1); }, out);
}

}  // namespace

#define SWITCHBOARD_JSON_CONVERSION(Type)                                                                   \
  void tag_invoke(const json::value_from_tag&, json::value& out, const Type& in) { write_record(out, in); } \
  Type tag_invoke(const json::value_to_tag<Type>&, const json::value& in) { return read_record<Type>(in); } \
  void append_json(std::string& out, const Type& in) { put(out, in); }

SWITCHBOARD_JSON_CONVERSION(Identity)
SWITCHBOARD_JSON_CONVERSION(Contact)
SWITCHBOARD_JSON_CONVERSION(ChannelLeg)
SWITCHBOARD_JSON_CONVERSION(AttachmentRef)
SWITCHBOARD_JSON_CONVERSION(Event)
SWITCHBOARD_JSON_CONVERSION(Conversation)
SWITCHBOARD_JSON_CONVERSION(OutboxEntry)
SWITCHBOARD_JSON_CONVERSION(Agent)
SWITCHBOARD_JSON_CONVERSION(Queue)
SWITCHBOARD_JSON_CONVERSION(Merge)
SWITCHBOARD_JSON_CONVERSION(IngestResult)
SWITCHBOARD_JSON_CONVERSION(SeenInbound)
SWITCHBOARD_JSON_CONVERSION(SlaClock)
SWITCHBOARD_JSON_CONVERSION(OpenHours)
SWITCHBOARD_JSON_CONVERSION(BusinessHours)
SWITCHBOARD_JSON_CONVERSION(SlaTarget)
SWITCHBOARD_JSON_CONVERSION(SlaPolicy)
SWITCHBOARD_JSON_CONVERSION(Survey)
SWITCHBOARD_JSON_CONVERSION(QueueRule)
SWITCHBOARD_JSON_CONVERSION(WaitUpdates)
SWITCHBOARD_JSON_CONVERSION(Call)

#undef SWITCHBOARD_JSON_CONVERSION

namespace store {

std::string_view status_name(DeliveryStatus status) {
  return kNames<DeliveryStatus>.at(static_cast<std::size_t>(status));
}

}  // namespace store
}  // namespace switchboard::router
