#pragma once

// Names the calling thread (at most 15 characters show) so that top -H, perf and
// /proc/PID/task/*/comm tell the router's threads apart.

#include <pthread.h>

namespace switchboard::router {

inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace switchboard::router
