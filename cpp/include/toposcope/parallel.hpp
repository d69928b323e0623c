// A minimal dynamic parallel loop. Exceptions thrown by workers are captured
// and rethrown on the calling thread after every worker has joined.
#pragma once

#include <atomic>
#include <chrono>
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
// the two threads takes c, and returns once all are done (f(c, lane) if f
// takes it: 0 on the caller, 1 on the helper, for per-thread scratch).
//
// Each thread has a range of the items, the caller the first half and the
// helper the second, and takes from its front; a thread done with its own
// takes from the back of the other's. Both ranges live in atomic words on
// lines of their own, so that a phase moves a handful of cache lines between
// the two cores rather than one per item: on a machine whose two cores sat
// far apart (a cache line's round trip 360-440 ns instead of 87 ns), the
// Clifford torus's collapse took longer on two lanes with one shared counter
// than on one lane. And the caller waits only for items the helper has
// begun, so a helper that the machine holds back (another process on its
// core) does not stall every phase: with a busy loop on one core the same
// collapse took 7.0 s on two lanes when each thread had a fixed half, 3.1 s
// on one.
//
// The helper spins between phases, so this is for tight loops of phases on 2
// cores. Without a helper (enabled == false) everything runs here.
class lane_pair {
public:
    explicit lane_pair(bool enabled) {
        if (enabled) helper_ = std::thread([this] { loop(); });
    }
    ~lane_pair() {
        if (!helper_.joinable()) return;
        stop_.store(true, std::memory_order_relaxed);
        phase_.value.fetch_add(1, std::memory_order_release);
        helper_.join();
    }
    lane_pair(const lane_pair&) = delete;
    lane_pair& operator=(const lane_pair&) = delete;

    // Whether run() uses the helper (it keeps spinning when not).
    void set_two_lanes(bool on) { two_ = on; }

    template <class F>
    void run(std::size_t k, F&& f) {
        if (!helper_.joinable() || !two_ || k < 2 || k > max_items) {
            for (std::size_t c = 0; c < k; ++c) call_with_lane(f, c, 0);
            return;
        }
        using G = std::remove_reference_t<F>;
        const std::uint64_t phase = phase_.value.load(std::memory_order_relaxed) + 1;   // written here only
        const std::uint64_t tag = phase & tag_mask;
        // The helper reads the slot after it has taken an item, by the tag
        // the range carried: a helper still on an older phase then works
        // on this one, with this one's slot, or takes nothing.
        slot& s = slots_[tag % slot_count];
        s.call.store([](void* g, std::size_t c) { call_with_lane(*static_cast<G*>(g), c, 1); },
                     std::memory_order_relaxed);
        s.context.store(const_cast<void*>(static_cast<const void*>(&f)), std::memory_order_relaxed);
        const std::size_t mid = (k + 1) / 2;
        range_[0].value.store(pack(tag, 0, mid), std::memory_order_release);
        range_[1].value.store(pack(tag, mid, k), std::memory_order_release);
        phase_.value.store(phase, std::memory_order_release);
        std::exception_ptr mine;
        std::size_t done = 0;
        for (std::size_t c; take(0, tag, c);) {
            try {
                call_with_lane(f, c, 0);
            } catch (...) {
                if (!mine) mine = std::current_exception();
            }
            ++done;
        }
        // What is left is what the helper has taken.
        for (unsigned spins = 0;; ++spins) {
            const std::uint64_t d = helper_done_.value.load(std::memory_order_acquire);
            if (done + ((d >> 32) == tag ? d & 0xffffffffu : 0) == k) break;
            pause(spins);
        }
        if (mine) std::rethrow_exception(mine);
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
    // A range word: the phase's tag (24 bits), then begin and end (20 each).
    static constexpr std::uint64_t tag_mask = (std::uint64_t(1) << 24) - 1, item_mask = (std::uint64_t(1) << 20) - 1;
    static constexpr std::size_t max_items = item_mask;
    static constexpr std::uint64_t slot_count = 4;
    static std::uint64_t pack(std::uint64_t tag, std::uint64_t begin, std::uint64_t end) {
        return tag << 40 | begin << 20 | end;
    }
    struct slot {
        std::atomic<void (*)(void*, std::size_t)> call{nullptr};
        std::atomic<void*> context{nullptr};
    };
    struct alignas(64) line {   // one atomic per cache line: the two threads write different ones
        std::atomic<std::uint64_t> value{0};
    };
    template <class F>
    static void call_with_lane(F& f, std::size_t c, int lane) {
        if constexpr (std::is_invocable_v<F&, std::size_t, int>) f(c, lane);
        else f(c);
    }

    // An item of phase `tag` for `lane`: the front of its own range, else
    // the back of the other's; false when both are empty (or moved on).
    bool take(int lane, std::uint64_t tag, std::size_t& item) {
        for (const int r : {lane, 1 - lane}) {
            std::atomic<std::uint64_t>& word = range_[r].value;
            std::uint64_t x = word.load(std::memory_order_acquire);
            while ((x >> 40) == tag) {
                const std::uint64_t begin = (x >> 20) & item_mask, end = x & item_mask;
                if (begin >= end) break;
                const bool front = r == lane;
                const std::uint64_t y = front ? pack(tag, begin + 1, end) : pack(tag, begin, end - 1);
                if (word.compare_exchange_weak(x, y, std::memory_order_acq_rel, std::memory_order_acquire)) {
                    item = std::size_t(front ? begin : end - 1);
                    return true;
                }
            }
        }
        return false;
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
            for (unsigned spins = 0; phase_.value.load(std::memory_order_acquire) == seen; ++spins) pause(spins);
            seen = phase_.value.load(std::memory_order_acquire);
            if (stop_.load(std::memory_order_relaxed)) return;
            const std::uint64_t tag = seen & tag_mask;
            std::uint64_t done = 0;
            for (std::size_t c; take(1, tag, c);) {
                const slot& s = slots_[tag % slot_count];   // this phase's: the take synchronised with its setup
                try {
                    s.call.load(std::memory_order_relaxed)(s.context.load(std::memory_order_relaxed), c);
                } catch (...) {
                    if (!error_) error_ = std::current_exception();
                }
                helper_done_.value.store(tag << 32 | ++done, std::memory_order_release);
            }
        }
    }

    std::thread helper_;
    bool two_ = true;
    line phase_, range_[2], helper_done_;   // helper_done_: the phase's tag, then the items it finished
    std::atomic<bool> stop_{false};
    slot slots_[slot_count];
    std::exception_ptr error_;   // the helper's first exception of a phase
};

// Chooses between one lane and two by timing both as the work goes. Where
// the two cores sit far apart some of the time (a virtual machine's cores
// moved about by its host), the cache lines that two lanes pass between them
// can cost more than the second lane gives: the Clifford torus's collapse
// took 0.75 s on two lanes and 1.15 s on one in some minutes, 1.5-1.7 s on
// two in others, with one unchanged. Every period, a short stretch runs on
// each (the later in the better state), then the faster runs the rest.
class lane_chooser {
public:
    // `stretch`: items timed on each lane count per period of 16 stretches.
    explicit lane_chooser(std::size_t stretch) : stretch_(stretch), start_(clock::now()) {}

    // After `done` items in all: whether two lanes should run the next ones.
    bool two_lanes(std::size_t done) {
        if (done - from_ < length_) return two_;
        const auto now = clock::now();
        const double seconds_per_item = std::chrono::duration<double>(now - start_).count() / double(done - from_);
        switch (stage_) {
        case stage::time_one:
            one_ = seconds_per_item;
            stage_ = stage::time_two;
            two_ = true;
            length_ = stretch_;
            break;
        case stage::time_two:
            stage_ = stage::run;
            two_ = seconds_per_item < one_;
            length_ = 14 * stretch_;
            break;
        case stage::run:
            stage_ = stage::time_one;
            two_ = false;
            length_ = stretch_;
            break;
        }
        from_ = done;
        start_ = now;
        return two_;
    }

private:
    using clock = std::chrono::steady_clock;
    enum class stage { time_one, time_two, run };
    std::size_t stretch_, from_ = 0, length_ = stretch_;
    stage stage_ = stage::time_one;
    bool two_ = false;
    double one_ = 0;
    clock::time_point start_;
};

}  // namespace toposcope
