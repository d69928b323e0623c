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
// phases): run(k, f) calls f(c) for every c in [0, k), the even ones here and
// the odd ones on the helper, and returns once both are done. The helper
// spins between phases, so this is for tight loops of phases on 2 cores.
// Without a helper (enabled == false) everything runs here.
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
        if (!helper_.joinable() || k < 2) {
            for (std::size_t c = 0; c < k; ++c) f(c);
            return;
        }
        using G = std::remove_reference_t<F>;
        call_ = [](void* g, std::size_t c) { (*static_cast<G*>(g))(c); };
        context_ = const_cast<void*>(static_cast<const void*>(&f));
        k_ = k;
        const std::uint64_t phase = phase_.fetch_add(1, std::memory_order_release) + 1;
        std::exception_ptr mine;
        try {
            for (std::size_t c = 0; c < k; c += 2) f(c);
        } catch (...) {
            mine = std::current_exception();
        }
        for (unsigned spins = 0; done_.load(std::memory_order_acquire) != phase; ++spins) pause(spins);
        if (mine) std::rethrow_exception(mine);
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

private:
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
            try {
                for (std::size_t c = 1; c < k_; c += 2) call_(context_, c);
            } catch (...) {
                error_ = std::current_exception();
            }
            done_.store(seen, std::memory_order_release);
        }
    }

    std::thread helper_;
    std::atomic<std::uint64_t> phase_{0}, done_{0};
    std::atomic<bool> stop_{false};
    void (*call_)(void*, std::size_t) = nullptr;
    void* context_ = nullptr;
    std::size_t k_ = 0;
    std::exception_ptr error_;
};

}  // namespace toposcope
