// goro — Go's concurrency model for C++20: goroutines, a work-stealing M:N
// scheduler, sync primitives, channels, select and contexts, and
// golang.org/x/sync's errgroup, semaphore and singleflight, and sockets
// (goro::net) that park goroutines instead of blocking threads. This header
// includes every public header (a test checks it:
// tests/compile/CMakeLists.txt); each concept also has its own header.
//
//   #include <goro/goro.hpp>   // link Boost.Context and threads:
//                              // g++ -std=c++20 app.cpp -lboost_context -pthread
#pragma once

#include "blocking.hpp"
#include "chan.hpp"
#include "cond.hpp"
#include "context.hpp"
#include "dump.hpp"
#include "go.hpp"
#include "group.hpp"
#include "metrics.hpp"
#include "mutex.hpp"
#include "net.hpp"
#include "once.hpp"
#include "options.hpp"
#include "rw_mutex.hpp"
#include "scheduler.hpp"
#include "select.hpp"
#include "semaphore.hpp"
#include "single_flight.hpp"
#include "synctest.hpp"
#include "testing.hpp"
#include "time.hpp"
#include "trace.hpp"
#include "wait_fd.hpp"
#include "wait_group.hpp"
