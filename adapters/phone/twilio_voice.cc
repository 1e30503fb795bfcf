// Voice: the incoming-call webhook asks the router where the call goes and answers with
// TwiML; call status and <Dial> outcomes move the call's state; voicemail recordings
// and their transcriptions become messages on the caller's conversation.

#include <spdlog/spdlog.h>

#include "twilio_core.h"
#include "twilio_twiml.h"

namespace switchboard::adapters::twilio {
namespace {

using router::CallState;
using router::ErrorCode;

// Twilio's CallStatus / DialCallStatus in terms of the per-call machine.
std::optional<CallState> call_state_of(const std::string& status) {
  if (status == "queued" || status == "initiated" || status == "ringing") return CallState::kRinging;
  if (status == "in-progress" || status == "answered") return CallState::kInProgress;
  if (status == "completed") return CallState::kEnded;
  if (status == "busy" || status == "no-answer" || status == "canceled" || status == "failed")
    return CallState::kMissed;
  return std::nullopt;
}

std::chrono::seconds seconds_of(const std::string& text) {
  return std::chrono::seconds(std::strtoll(text.c_str(), nullptr, 10));
}

// Where Twilio posts what happens after our TwiML; the caller and the conversation ride
// in the query, which the signature covers, so they cannot be forged and survive a restart.
std::string callback_url(const Core& core, std::string_view path, const std::string& caller,
                         const std::string& conversation_id) {
  return core.public_url(path) + "?" + http::form_encode({{"caller", caller}, {"conversation", conversation_id}});
}

std::string voicemail_twiml(const Core& core, const std::string& caller, const std::string& conversation_id) {
  const auto& s = core.settings;
  BusyTwiml busy;
  busy.message = s.busy_message;
  busy.voice = s.say_voice;
  busy.language = s.say_language;
  busy.voicemail = s.voicemail;
  busy.max_length = s.max_recording;
  busy.recording_callback = callback_url(core, "/voice/recording", caller, conversation_id);
  if (s.transcribe) busy.transcription_callback = callback_url(core, "/voice/transcription", caller, conversation_id);
  busy.after_recording_url = core.public_url("/voice/hangup");
  return busy_twiml(busy);
}

// For a caller we cannot put on a conversation (a withheld number, the store down).
std::string unavailable_twiml(const Core& core) {
  BusyTwiml sorry;
  sorry.message = core.settings.unavailable_message;
  sorry.voice = core.settings.say_voice;
  sorry.language = core.settings.say_language;
  return busy_twiml(sorry);
}

// The TwiML for a routing answer: dial the agent, else voicemail.
std::string routed_twiml(Core& core, const router::CallRouting& routing, const std::string& caller) {
  if (!routing.agent_id.empty()) {
    DialTwiml dial{routing.agent_sip_uri, core.public_url("/voice/dial"), core.settings.dial_timeout};
    if (std::string twiml = dial_twiml(dial); !twiml.empty()) return twiml;
    spdlog::warn("twilio: agent {} has no sip: or tel: sip_uri ('{}'); the caller {} goes to voicemail",
                 routing.agent_id, routing.agent_sip_uri, caller);
  }
  return voicemail_twiml(core, caller, routing.ingest.conversation_id);
}

void update(Core& core, router::CallUpdate u, std::function<void(router::Result<router::IngestResult>)> done) {
  u.channel = kVoiceChannel;
  core.host.update_call(std::move(u), std::move(done));
}

// Ended, stepping through InProgress when the answer was never reported: Twilio tells a
// number's status callback only "completed" unless asked for more.
void end_call(std::shared_ptr<Core> core, const std::string& call_sid, std::chrono::seconds duration,
              std::function<void(router::Status)> done) {
  router::CallUpdate ended{kVoiceChannel, call_sid, CallState::kEnded, duration, {}};
  update(*core, ended, [core, ended, done](router::Result<router::IngestResult> r) {
    if (r || r.error().code != ErrorCode::kFailedPrecondition || ended.duration.count() == 0) {
      return done(r ? router::ok_status() : router::Status(r.error()));
    }
    update(*core, {kVoiceChannel, ended.call_id, CallState::kInProgress, {}, {}},
           [core, ended, done](router::Result<router::IngestResult> answered) {
             if (!answered) return done(answered.error());
             update(*core, ended, [done](router::Result<router::IngestResult> r) {
               done(r ? router::ok_status() : router::Status(r.error()));
             });
           });
  });
}

// Moves the call to what Twilio says; `done` gets the outcome.
void move_call(std::shared_ptr<Core> core, const std::string& call_sid, CallState state, std::chrono::seconds duration,
               const std::string& reason, std::function<void(router::Status)> done) {
  if (state == CallState::kEnded) return end_call(std::move(core), call_sid, duration, std::move(done));
  update(*core, {kVoiceChannel, call_sid, state, duration, state == CallState::kMissed ? reason : ""},
         [done](router::Result<router::IngestResult> r) { done(r ? router::ok_status() : router::Status(r.error())); });
}

// Twilio's word on a call is final for Twilio: a step our machine refuses (a late
// callback, a call it never routed) is logged and answered 2xx; only a store failure
// asks Twilio to try again.
bool worth_a_retry(const router::Status& s) {
  return !s && (s.error().code == ErrorCode::kUnavailable || s.error().code == ErrorCode::kAborted);
}

void log_unapplied(const std::string& call_sid, const std::string& status, const router::Status& s) {
  if (!s) spdlog::info("twilio: call {} {} not applied: {}", call_sid, status, s.error().describe());
}

// A recording or a transcription, as a message on the caller's conversation.
void store_voicemail(std::shared_ptr<Core> core, const Webhook& hook, router::InboundMessage m, http::Respond respond) {
  m.channel = kVoiceChannel;
  m.address = http::query_parameter(hook.target, "caller").value_or(hook.get("From"));
  m.conversation_id = http::query_parameter(hook.target, "conversation").value_or("");
  m.queue = core->settings.queue;
  m.metadata["call_sid"] = hook.get("CallSid");
  if (m.address.empty() || m.external_id.empty()) return respond(bad_request(*core, hook, "no caller or no sid"));
  core->host.ingest(std::move(m), [core, respond](router::Result<router::IngestResult> stored) {
    if (!stored) return respond(refusal(stored.error()));
    ++core->counters.voicemails;
    respond(twiml_response(empty_twiml()));
  });
}

}  // namespace

void on_incoming_call(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  router::InboundCall call;
  call.channel = kVoiceChannel;
  call.address = hook.get("From");
  call.call_id = hook.get("CallSid");
  if (call.call_id.empty()) return respond(bad_request(*core, hook, "CallSid required"));
  call.queue = core->settings.queue;
  call.metadata["to"] = hook.get("To");
  call.metadata["direction"] = hook.get("Direction");
  if (!hook.get("CallerName").empty()) call.display_name = hook.get("CallerName");
  const std::string caller = call.address;
  core->host.route_call(std::move(call), [core, respond, caller](router::Result<router::CallRouting> routing) {
    ++core->counters.calls;
    if (!routing) {
      spdlog::warn("twilio: a call from '{}' not routed: {}", caller, routing.error().describe());
      return respond(twiml_response(unavailable_twiml(*core)));
    }
    respond(twiml_response(routed_twiml(*core, *routing, caller)));
  });
}

void on_call_status(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  const std::string& sid = hook.get("CallSid");
  const std::string& status = hook.get("CallStatus");
  const auto state = call_state_of(status);
  if (sid.empty() || !state) return respond(bad_request(*core, hook, "CallSid and a known CallStatus required"));
  move_call(core, sid, *state, seconds_of(hook.get("CallDuration")), status,
            [core, respond, sid, status](router::Status s) {
              if (worth_a_retry(s)) return respond(refusal(s.error()));
              log_unapplied(sid, status, s);
              ++core->counters.call_updates;
              respond(twiml_response(empty_twiml()));
            });
}

// <Dial action>: the agent's leg ended. Answered: the call is over. Not answered: the
// call is missed and the caller may leave a voicemail.
void on_dial_ended(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  const std::string& sid = hook.get("CallSid");
  const std::string& status = hook.get("DialCallStatus");
  const auto state = call_state_of(status);
  if (sid.empty() || !state) return respond(bad_request(*core, hook, "CallSid and a known DialCallStatus required"));
  const bool answered = *state == CallState::kEnded || *state == CallState::kInProgress;
  const std::string caller = hook.get("From");
  move_call(core, sid, answered ? CallState::kEnded : CallState::kMissed, seconds_of(hook.get("DialCallDuration")),
            status, [core, respond, sid, status, answered, caller](router::Status s) {
              if (worth_a_retry(s)) return respond(refusal(s.error()));
              log_unapplied(sid, "dial " + status, s);
              ++core->counters.call_updates;
              // The conversation is found again by the caller's number when the voicemail lands.
              respond(twiml_response(answered ? hangup_twiml() : voicemail_twiml(*core, caller, "")));
            });
}

void on_recording(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  if (hook.get("RecordingStatus") != "completed") return respond(twiml_response(empty_twiml()));
  router::InboundMessage m;
  m.external_id = hook.get("RecordingSid");
  const std::string& seconds = hook.get("RecordingDuration");
  m.text = "Voicemail" + (seconds.empty() ? std::string() : " (" + seconds + " s)");
  m.attachments.push_back({hook.get("RecordingUrl"), "audio/x-wav", m.external_id + ".wav", 0});
  m.metadata["kind"] = "voicemail";
  m.metadata["recording_duration"] = seconds;
  store_voicemail(std::move(core), hook, std::move(m), std::move(respond));
}

void on_transcription(std::shared_ptr<Core> core, Webhook hook, http::Respond respond) {
  if (hook.get("TranscriptionStatus") != "completed") return respond(twiml_response(empty_twiml()));
  router::InboundMessage m;
  m.external_id = hook.get("TranscriptionSid");
  m.text = hook.get("TranscriptionText").empty() ? "(an empty transcription)" : hook.get("TranscriptionText");
  m.metadata["kind"] = "transcription";
  m.metadata["recording_sid"] = hook.get("RecordingSid");
  store_voicemail(std::move(core), hook, std::move(m), std::move(respond));
}

void on_hangup(std::shared_ptr<Core>, Webhook, http::Respond respond) { respond(twiml_response(hangup_twiml())); }

}  // namespace switchboard::adapters::twilio
