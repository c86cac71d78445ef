// RWMutex — Go's sync.RWMutex: a reader/writer lock. Any number of readers
// may hold it at once, or a single writer. Use it when reads greatly
// outnumber writes (a shared map, a configuration); otherwise a plain
// goro::Mutex is simpler and as fast.
//
// Contract:
// - lock()/unlock()/try_lock() for the writer, lock_shared()/unlock_shared()/
//   try_lock_shared() for readers: std::unique_lock, std::lock_guard,
//   std::scoped_lock and std::shared_lock work. lock() and lock_shared()
//   block (a goroutine parks, a plain thread sleeps); the others never block.
// - Writer-preferring, as in Go: once a writer waits in lock(), new readers
//   block until it has had its turn, so a stream of readers cannot starve a
//   writer. Hence, as in Go, a reader must not take the read lock twice
//   (recursive read locking): a writer arriving in between deadlocks both.
// - Callable from goroutines and plain OS threads, in any mix. Thread-safe.
//   Not owned: one goroutine may lock it and another unlock it.
// - Misuse is fatal, as in Go: `fatal error: sync: RUnlock of unlocked
//   RWMutex`, `fatal error: sync: Unlock of unlocked RWMutex`, then exit 2.
// - Memory: a writer's critical section is visible to every later reader
//   and writer; readers' sections are visible to the next writer.
//   ThreadSanitizer sees these edges and no other (Go's race annotations in
//   sync/rwmutex.go): readers are not ordered with each other.
// - Non-copyable, non-movable; must outlive every call on it.
//
//   class SafeMap {
//    public:
//     void set(const std::string& k, int v) { std::unique_lock lock(mu_); m_[k] = v; }
//     std::optional<int> get(const std::string& k) const {
//       std::shared_lock lock(mu_);
//       auto it = m_.find(k);
//       return it == m_.end() ? std::nullopt : std::optional<int>(it->second);
//     }
//    private:
//     mutable goro::RWMutex mu_;
//     std::map<std::string, int> m_;
//   };
//
// Go: the whole file mirrors sync/rwmutex.go (Go 1.21).
#pragma once

#include <atomic>
#include <cstdint>

#include "detail/config.hpp"
#include "detail/fatal.hpp"
#include "detail/goroutine.hpp"
#include "detail/race.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"

namespace goro {

class GORO_CAPABILITY("mutex") RWMutex {
 public:
  RWMutex() noexcept = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // Locks for reading. Go: RWMutex.RLock.
  void lock_shared() GORO_ACQUIRE_SHARED() {
    detail::RaceDisabled hidden;    // see "Race detection" below
    detail::race_read(&writer_);    // Go: `_ = rw.w.state`
    // Memory ordering: acquire pairs with unlock()'s release add, so the
    // last writer's critical section is visible to this reader.
    if (GORO_UNLIKELY(reader_count_.fetch_add(1, std::memory_order_acquire) + 1 < 0)) {
      // A writer is pending, wait for it.
      reader_sem_.acquire(false, detail::WaitReason::sync_rwmutex_rlock);
    }
    detail::race_acquire(&reader_sem_);
  }

  // Tries to lock for reading without blocking. Go: RWMutex.TryRLock.
  bool try_lock_shared() noexcept GORO_TRY_ACQUIRE_SHARED(true) {
    detail::RaceDisabled hidden;
    detail::race_read(&writer_);
    // Memory ordering: relaxed load only steers the loop; the CAS acquires
    // as lock_shared() does.
    std::int32_t c = reader_count_.load(std::memory_order_relaxed);
    for (;;) {
      if (c < 0) return false;
      if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        detail::race_acquire(&reader_sem_);
        return true;
      }
    }
  }

  // Undoes one lock_shared(). Go: RWMutex.RUnlock.
  void unlock_shared() GORO_RELEASE_SHARED() {
    detail::RaceDisabled hidden;
    detail::race_read(&writer_);
    detail::race_release_merge(&writer_sem_);  // readers do not order each other
    // Memory ordering: release — this reader's reads happen before a
    // pending writer's writes (the writer acquires reader_count_ or
    // reader_wait_ after us).
    const std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
    if (GORO_UNLIKELY(r < 0)) {
      // Outlined slow path to allow the fast path to be inlined.
      unlock_shared_slow(r);
    }
  }

  // Locks for writing: waits for other writers, then for the active readers.
  // Go: RWMutex.Lock.
  void lock() GORO_ACQUIRE() GORO_NO_TSA {
    detail::RaceDisabled hidden;  // writer_'s own edges are hidden too, as in Go
    detail::race_read(&writer_);
    // First, resolve competition with other writers.
    writer_.lock(detail::WaitReason::sync_rwmutex_lock);
    // Announce to readers there is a pending writer.
    // Memory ordering: acq_rel — acquire the departed readers' releases;
    // release is not needed by readers (they wait on reader_sem_) but keeps
    // the RMW chain simple to reason about.
    const std::int32_t r = reader_count_.fetch_sub(max_readers, std::memory_order_acq_rel);
    // Wait for active readers.
    // Memory ordering: acq_rel — acquire the releases of readers that
    // departed between our announcement and now (unlock_shared_slow).
    if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
      writer_sem_.acquire(false, detail::WaitReason::sync_rwmutex_lock);
    }
    detail::race_acquire(&reader_sem_);  // the last writer
    detail::race_acquire(&writer_sem_);  // every reader so far
  }

  // Tries to lock for writing without blocking. Go: RWMutex.TryLock.
  bool try_lock() noexcept GORO_TRY_ACQUIRE(true) GORO_NO_TSA {
    detail::RaceDisabled hidden;
    detail::race_read(&writer_);
    if (!writer_.try_lock()) return false;
    std::int32_t expected = 0;
    // Memory ordering: acquire the departed readers' releases, as lock() does.
    if (!reader_count_.compare_exchange_strong(expected, -max_readers, std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
      writer_.unlock();
      return false;
    }
    detail::race_acquire(&reader_sem_);
    detail::race_acquire(&writer_sem_);
    return true;
  }

  // Undoes lock(). Go: RWMutex.Unlock.
  void unlock() GORO_RELEASE() GORO_NO_TSA {
    detail::RaceDisabled hidden;
    detail::race_read(&writer_);
    detail::race_release(&reader_sem_);  // before any reader or writer can get in
    // Announce to readers there is no active writer.
    // Memory ordering: release publishes the writer's critical section to
    // readers (their acquire fetch_add in lock_shared).
    const std::int32_t r = reader_count_.fetch_add(max_readers, std::memory_order_release) + max_readers;
    if (GORO_UNLIKELY(r >= max_readers)) detail::fatal("sync: Unlock of unlocked RWMutex");
    // Unblock blocked readers, if any.
    for (std::int32_t i = 0; i < r; ++i) reader_sem_.release(false);
    // Allow other writers to proceed.
    writer_.unlock();
  }

 private:
  // Go: rwmutexMaxReaders.
  static constexpr std::int32_t max_readers = 1 << 30;

  // Go: RWMutex.rUnlockSlow.
  GORO_NOINLINE void unlock_shared_slow(std::int32_t r) {
    if (r + 1 == 0 || r + 1 == -max_readers) detail::fatal("sync: RUnlock of unlocked RWMutex");
    // A writer is pending.
    // Memory ordering: acq_rel — release our reads to the writer; the last
    // departing reader's RMW carries the earlier ones' (release sequence).
    if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) {
      // The last reader unblocks the writer.
      writer_sem_.release(false);
    }
  }

  // Race detection (Go: sync/rwmutex.go). Under ThreadSanitizer the
  // counters, semaphores and the inner Mutex are hidden (race.hpp); the
  // edges are Go's: Unlock releases reader_sem_ (a store: the last writer),
  // which every later RLock and Lock acquire; RUnlock merges into
  // writer_sem_, which every later Lock acquires. Each call reads writer_
  // as a plain access (Go: `_ = rw.w.state`).

  // Invariants (Go's comments, sync/rwmutex.go):
  // - writer_: held by the writer, and by a writer waiting for readers to
  //   depart; so at most one writer announces itself at a time.
  // - reader_count_: number of pending readers (holding or waiting). A
  //   writer subtracts max_readers while it is pending or holds the lock, so
  //   a negative value means "a writer is in": new readers then wait on
  //   reader_sem_. Changed only by atomic read-modify-writes.
  // - reader_wait_: number of departing readers the pending writer still
  //   waits for; the writer adds the count it saw, each reader that leaves
  //   while the writer is pending subtracts one, and the one that reaches
  //   zero releases writer_sem_.
  Mutex writer_;                   // Go: w
  detail::Sema writer_sem_;        // Go: writerSem — writers wait for completing readers
  detail::Sema reader_sem_;        // Go: readerSem — readers wait for completing writers
  std::atomic<std::int32_t> reader_count_{0};  // Go: readerCount
  std::atomic<std::int32_t> reader_wait_{0};   // Go: readerWait
};

}  // namespace goro
