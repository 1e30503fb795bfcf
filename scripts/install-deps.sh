#!/usr/bin/env bash
# Installs everything Switchboard needs to build and test on Debian 12, as root.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# Boost 1.81 replaces the default 1.74 headers: Boost.MSM does not compile as C++20 under 1.74.
apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build ccache pkg-config git clang-format \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-thread1.81-dev \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libsqlite3-dev libspdlog-dev libyaml-cpp-dev libssl-dev postgresql libpqxx-dev \
  python3 python3-grpcio python3-protobuf
# switchboardd's allocator (CMakeLists.txt says why)
apt-get install -y -qq --no-install-recommends libjemalloc-dev
# email adapter
apt-get install -y -qq --no-install-recommends libgmime-3.0-dev libcurl4-openssl-dev swaks python3-aiosmtpd
# chat adapter: the widget's end-to-end test drives a headless browser
apt-get install -y -qq --no-install-recommends chromium fonts-liberation
# the load generator's lean HTTP/2 subscriber client (bench/loadgen/http2_streams.h)
apt-get install -y -qq --no-install-recommends libnghttp2-dev
# phone adapter: SIP parsed by libosip2's parser; sipp (sip-tester) drives its tests and benchmark
apt-get install -y -qq --no-install-recommends libosip2-dev sip-tester

# Business hours in named time zones: libstdc++ 12 has no std::chrono::locate_zone, so
# Howard Hinnant's date/tz library, reading the system's tzdata.
apt-get install -y -qq --no-install-recommends libhowardhinnant-date-dev tzdata

# libphonenumber-dev depends on libboost-thread-dev, which would pull the Boost 1.74
# headers that conflict with libboost1.81-dev. A tiny local package satisfies that
# dependency with the 1.81 library instead.
if ! dpkg -s libphonenumber-dev >/dev/null 2>&1; then
  if ! dpkg -s libboost-thread-dev >/dev/null 2>&1; then
    shim=$(mktemp -d)
    mkdir -p "$shim/pkg/DEBIAN"
    cat >"$shim/pkg/DEBIAN/control" <<'CONTROL'
Package: libboost-thread-dev
Version: 1.81.0.0switchboard1
Architecture: all
Maintainer: Switchboard <dev@switchboard.invalid>
Depends: libboost-thread1.81-dev
Description: lets libphonenumber-dev install beside Boost 1.81
 libphonenumber-dev depends on libboost-thread-dev, which would pull the
 Boost 1.74 headers that conflict with libboost1.81-dev.
CONTROL
    dpkg-deb --build "$shim/pkg" "$shim/libboost-thread-dev-shim.deb" >/dev/null
    dpkg -i "$shim/libboost-thread-dev-shim.deb" >/dev/null
    rm -rf "$shim"
  fi
  apt-get install -y -qq --no-install-recommends libphonenumber-dev
fi
