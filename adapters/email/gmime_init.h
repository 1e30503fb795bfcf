#pragma once

// What the GMime users of this adapter share: initialisation and RAII for GObjects.

#include <glib-object.h>

#include <memory>

namespace switchboard::adapters::email {

// g_mime_init(), once per process; every GMime user calls this first.
void ensure_gmime();

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
// Owns one reference to a GObject (a GMimeMessage, a stream, ...).
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

}  // namespace switchboard::adapters::email
