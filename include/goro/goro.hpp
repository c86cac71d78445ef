// goro — Go's concurrency model for C++20: goroutines, a work-stealing M:N
// scheduler, sync primitives, channels, select and contexts, and
// golang.org/x/sync's errgroup, semaphore and singleflight. This header
// includes everything; each concept also has its own header.
#pragma once

#include "blocking.hpp"
#include "chan.hpp"
#include "cond.hpp"
#include "context.hpp"
#include "dump.hpp"
#include "go.hpp"
#include "group.hpp"
#include "mutex.hpp"
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
#include "wait_group.hpp"
