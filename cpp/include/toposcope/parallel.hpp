// A minimal dynamic parallel loop. Exceptions thrown by workers are captured
// and rethrown on the calling thread after every worker has joined.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "types.hpp"

namespace toposcope {

inline int resolve_threads(int requested) {
    if (requested > 0) return requested;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

// Calls body(task, thread) for every task in [0, n_tasks), handing tasks out
// one at a time (tasks should be coarse), after the calling thread (thread 0)
// has run `first`: a sequential job overlapped with parallel work that does
// not depend on it.
template <class First, class Body>
void parallel_for_beside(First&& first, index_t n_tasks, int n_threads, Body&& body) {
    n_threads = std::max(1, std::min<int>(n_threads, static_cast<int>(std::max<index_t>(n_tasks, 1))));
    std::atomic<index_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&](int thread) {
        try {
            if (thread == 0) first();
            for (index_t t = next++; t < n_tasks && !failed; t = next++) body(t, thread);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            failed = true;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker, t);
    worker(0);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

template <class Body>
void parallel_for(index_t n_tasks, int n_threads, Body&& body) {
    parallel_for_beside([] {}, n_tasks, n_threads, std::forward<Body>(body));
}

// Many short parallel phases on the calling thread and one helper that lives
// as long as this object (starting a thread per phase would cost more than the
// phases): run(k, f) calls f(c) once for every c in [0, k), on whichever of
// the two threads takes c first, and returns once all are done (f(c, lane)
// if f takes it: 0 on the caller, 1 on the helper, for per-thread scratch). The caller
// takes items too and waits only for those the helper has begun: a helper
// that the machine holds back (another process on its core) no longer stalls
// every phase (clifford_50000's collapse, ~60,000 phases, with a busy loop on
// one core: 7.0 s on two lanes when each thread had half the items, against
// 3.1 s on one). The helper spins between phases, so this is for tight loops
// of phases on 2 cores. Without a helper (enabled == false) everything runs
// here.
class lane_pair {
public:
    explicit lane_pair(bool enabled) {
        if (enabled) helper_ = std::thread([this] { loop(); });
    }
    ~lane_pair() {
        if (!helper_.joinable()) return;
        stop_.store(true, std::memory_order_relaxed);
        phase_.fetch_add(1, std::memory_order_release);
        helper_.join();
    }
    lane_pair(const lane_pair&) = delete;
    lane_pair& operator=(const lane_pair&) = delete;

    template <class F>
    void run(std::size_t k, F&& f) {
        if (!helper_.joinable() || k < 2 || k > low) {
            for (std::size_t c = 0; c < k; ++c) call_with_lane(f, c, 0);
            return;
        }
        using G = std::remove_reference_t<F>;
        const std::uint64_t phase = phase_.load(std::memory_order_relaxed) + 1;   // written here only
        // The phase's slot is rewritten four phases later, by when next_
        // carries another tag: a helper that read it late cannot claim with it.
        slot& s = slots_[phase % slot_count];
        s.call.store([](void* g, std::size_t c) { call_with_lane(*static_cast<G*>(g), c, 1); }, std::memory_order_relaxed);
        s.context.store(const_cast<void*>(static_cast<const void*>(&f)), std::memory_order_relaxed);
        s.k.store(k, std::memory_order_release);
        finished_.store(0, std::memory_order_relaxed);
        next_.store(tag(phase), std::memory_order_release);
        phase_.store(phase, std::memory_order_release);
        std::exception_ptr mine;
        claim(phase, k, [&](std::size_t c) { call_with_lane(f, c, 0); }, mine);
        for (unsigned spins = 0; finished_.load(std::memory_order_acquire) != k; ++spins) pause(spins);
        if (mine) std::rethrow_exception(mine);
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    static constexpr std::uint64_t slot_count = 4;
    static constexpr std::uint64_t low = 0xffffffffu;
    struct slot {
        std::atomic<void (*)(void*, std::size_t)> call{nullptr};
        std::atomic<void*> context{nullptr};
        std::atomic<std::size_t> k{0};
    };
    template <class F>
    static void call_with_lane(F& f, std::size_t c, int lane) {
        if constexpr (std::is_invocable_v<F&, std::size_t, int>) f(c, lane);
        else f(c);
    }
    // next_ holds the phase (low 32 bits of it) above the next item to take.
    static std::uint64_t tag(std::uint64_t phase) { return (phase & low) << 32; }

    // Takes the phase's items one at a time while any is left, calling
    // call(c) for each; the first exception is kept, the items go on.
    template <class Call>
    void claim(std::uint64_t phase, std::size_t k, Call&& call, std::exception_ptr& error) {
        std::uint64_t x = next_.load(std::memory_order_acquire);
        while ((x >> 32) == (phase & low) && (x & low) < k) {
            if (!next_.compare_exchange_weak(x, x + 1, std::memory_order_acq_rel, std::memory_order_acquire))
                continue;
            try {
                call(std::size_t(x & low));
            } catch (...) {
                if (!error) error = std::current_exception();
            }
            finished_.fetch_add(1, std::memory_order_release);
            x = next_.load(std::memory_order_acquire);
        }
    }

    static void pause(unsigned spins) {
#if defined(__x86_64__) || defined(__i386__)
        if (spins < (1u << 14)) { __builtin_ia32_pause(); return; }
#endif
        (void)spins;
        std::this_thread::yield();
    }
    void loop() {
        std::uint64_t seen = 0;
        while (true) {
            for (unsigned spins = 0; phase_.load(std::memory_order_acquire) == seen; ++spins) pause(spins);
            seen = phase_.load(std::memory_order_acquire);
            if (stop_.load(std::memory_order_relaxed)) return;
            // The slot's k may be a later phase's if this helper is late; then
            // next_'s tag has moved on too and no claim succeeds. After a
            // successful claim the slot is this phase's until its items are done.
            slot& s = slots_[seen % slot_count];
            // Acquire: a later phase's k, if read, brings next_'s later tag with it.
            claim(seen, s.k.load(std::memory_order_acquire), [&](std::size_t c) {
                s.call.load(std::memory_order_relaxed)(s.context.load(std::memory_order_relaxed), c);
            }, error_);
        }
    }

    std::thread helper_;
    std::atomic<std::uint64_t> phase_{0}, next_{0};
    std::atomic<std::size_t> finished_{0};
    std::atomic<bool> stop_{false};
    slot slots_[slot_count];
    std::exception_ptr error_;   // the helper's first exception of a phase
};

}  // namespace toposcope
