// A minimal dynamic parallel loop. Exceptions thrown by workers are captured
// and rethrown on the calling thread after every worker has joined.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "types.hpp"

namespace toposcope {

inline int resolve_threads(int requested) {
    if (requested > 0) return requested;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

// Calls body(task, thread) for every task in [0, n_tasks), handing tasks out
// one at a time (tasks should be coarse). Thread 0 is the caller's thread.
template <class Body>
void parallel_for(index_t n_tasks, int n_threads, Body&& body) {
    n_threads = std::max(1, std::min<int>(n_threads, static_cast<int>(std::max<index_t>(n_tasks, 1))));
    std::atomic<index_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&](int thread) {
        try {
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

}  // namespace toposcope
