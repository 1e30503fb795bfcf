#pragma once

// The TwiML the adapter answers Twilio's voice and messaging webhooks with
// (docs/twilio.md "What Twilio is told"). Text and URLs are XML-escaped here, so a
// caller's name or an agent's SIP URI cannot change the document's shape.

#include <chrono>
#include <string>
#include <string_view>

namespace switchboard::adapters::twilio {

// `<Response/>`: the messaging webhook's "stored, nothing to send back".
std::string empty_twiml();
// `<Response><Hangup/></Response>`.
std::string hangup_twiml();

struct DialTwiml {
  std::string agent_uri;             // sip:..., sips:... (dialed with <Sip>) or tel:+1... (with <Number>)
  std::string action_url;            // Twilio posts DialCallStatus there when the agent's leg ends
  std::chrono::seconds timeout{20};  // ringing the agent before "no-answer"
};
// Connects the caller to the agent. Empty when the URI is neither sip:, sips: nor tel:.
std::string dial_twiml(const DialTwiml& dial);

struct BusyTwiml {
  std::string message;  // said to the caller
  std::string voice;    // <Say voice>; empty: Twilio's default
  std::string language;
  bool voicemail = false;  // then a <Record> follows
  std::chrono::seconds max_length{120};
  std::string recording_callback;      // recordingStatusCallback
  std::string transcription_callback;  // transcribeCallback; empty: no transcription
  std::string after_recording_url;     // <Record action>: what the call does next
};
// Tells the caller nobody can answer and, with voicemail, records a message.
std::string busy_twiml(const BusyTwiml& busy);

// `&`, `<`, `>`, `"` and `'` as entities.
std::string xml_escape(std::string_view text);

}  // namespace switchboard::adapters::twilio
