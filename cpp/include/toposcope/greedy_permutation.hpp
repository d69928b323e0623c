// Farthest-point sampling (the greedy permutation).
//
// The first pick is `start`; each later pick is the point farthest from all
// points picked so far, the lowest index winning ties (numpy's argmax rule,
// as in ripser.py's get_greedy_perm). radii[t] is the covering radius of the
// first t + 1 picks: the largest distance from any point to its nearest pick.
//
// Cost O(n k d) time and O(n) memory: a running array of each point's
// distance to its nearest pick is lowered by one new pick per step. For
// metric sources the triangle inequality skips most distance evaluations: a
// point x whose nearest pick a satisfies d(a, new) > 2 d(x, a) cannot get
// closer to the new pick, so x's coordinates are not even read.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "parallel.hpp"
#include "types.hpp"

namespace toposcope {

// Squared Euclidean distance accumulated in double on eight independent
// lanes: the compiler vectorises the lanes without reordering any sum, so the
// result is the same whatever the SIMD width. Fused multiply-adds are kept
// off for the same reason.
template <class T>
inline double squared_euclidean_lanes(const T* a, const T* b, index_t d) {
    constexpr index_t lanes = 8;
    double acc[lanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t k = 0;
    for (; k + lanes <= d; k += lanes) {
        for (index_t l = 0; l < lanes; ++l) {
            const double diff = double(a[k + l]) - double(b[k + l]);
            acc[l] += diff * diff;
        }
    }
    double tail = 0;
    for (; k < d; ++k) {
        const double diff = double(a[k]) - double(b[k]);
        tail += diff * diff;
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Wheels are built for the baseline ISA; on x86-64 Linux with GCC the kernel
// is also compiled for AVX2 and AVX-512 and the loader picks the best one
// for the running CPU (function multiversioning). Same results in every clone.
#if TOPOSCOPE_MULTIVERSIONING
#define TOPOSCOPE_KERNEL __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#else
#define TOPOSCOPE_KERNEL
#endif

TOPOSCOPE_KERNEL inline double squared_euclidean(const float* a, const float* b, index_t d) {
    return squared_euclidean_lanes(a, b, d);
}
TOPOSCOPE_KERNEL inline double squared_euclidean(const double* a, const double* b, index_t d) {
    return squared_euclidean_lanes(a, b, d);
}
#undef TOPOSCOPE_KERNEL

// Distance sources: `operator()(i, j)` is the distance between points i and
// j; `is_metric` says whether the triangle inequality may be relied on.
template <class T>
struct euclidean_points {
    const T* points;  // (n, dim) row-major
    index_t n, dim;
    static constexpr bool is_metric = true;
    double operator()(index_t i, index_t j) const {
        return std::sqrt(squared_euclidean(points + i * dim, points + j * dim, dim));
    }
};

// A square (n, n) row-major matrix; row i is read, so d(i, j) = D[i, j].
template <class T>
struct square_distances {
    const T* matrix;
    index_t n;
    static constexpr bool is_metric = false;  // user data: no triangle inequality assumed
    double operator()(index_t i, index_t j) const { return double(matrix[i * n + j]); }
};

// scipy's condensed layout: entry (i, j), i < j, at n*i - i*(i+1)/2 + j - i - 1.
template <class T>
struct condensed_distances {
    const T* values;
    index_t n;
    static constexpr bool is_metric = false;
    double operator()(index_t i, index_t j) const {
        if (i == j) return 0.0;
        if (i > j) std::swap(i, j);
        return double(values[n * i - i * (i + 1) / 2 + j - i - 1]);
    }
};

struct greedy_permutation_result {
    std::vector<index_t> order;  // picked point indices, in pick order
    std::vector<double> radii;   // radii[t]: covering radius of order[0..t]
};

namespace detail {

// A reusable barrier for the few threads of one sampling run. Threads spin
// briefly and then yield, so an oversubscribed machine does not stall.
class spin_barrier {
public:
    explicit spin_barrier(int n_threads) : n_threads_(n_threads) {}
    void arrive_and_wait() {
        const int generation = generation_.load(std::memory_order_acquire);
        if (waiting_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_threads_) {
            waiting_.store(0, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
            return;
        }
        for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins)
            if (spins > 256) std::this_thread::yield();
    }

private:
    const int n_threads_;
    std::atomic<int> waiting_{0};
    std::atomic<int> generation_{0};
};

struct farthest {
    double distance = -1.0;  // -1: every point of the slice is already picked
    index_t index = -1;
};

// The larger distance wins; on equal distances the lower index (numpy's argmax).
inline void keep_farthest(farthest& best, double distance, index_t index) {
    if (distance > best.distance || (distance == best.distance && index < best.index)) {
        best.distance = distance;
        best.index = index;
    }
}

}  // namespace detail

// Picks up to `k` points (all of them when k <= 0 or k > n), stopping early
// once the covering radius is at most `eps` (ignored when eps < 0).
// `check_interrupt` (may be empty) is called every few hundred picks on the
// calling thread; whatever it throws is rethrown after the workers stop.
template <class Source>
greedy_permutation_result greedy_permutation(const Source& dist, index_t n, index_t k, double eps, index_t start,
                                             int n_threads, double work_per_point,
                                             const std::function<void()>& check_interrupt = {}) {
    if (n <= 0) throw std::invalid_argument("farthest-point sampling needs at least one point");
    if (start < 0 || start >= n) throw std::invalid_argument("start must be a point index in [0, n)");
    if (k <= 0 || k > n) k = n;

    // Below ~100k operations per pick, a second thread costs more than it saves.
    int threads = resolve_threads(n_threads);
    threads = static_cast<int>(std::max<double>(1, std::min<double>(threads, n * work_per_point / 1e5)));

    std::vector<double> nearest(n);          // distance to the nearest pick; -1 once picked
    std::vector<index_t> nearest_pick(n, 0); // pick number (into `order`) of that nearest pick
    std::vector<double> pick_to_new;         // distance from the newest pick to every earlier pick
    std::vector<detail::farthest> slice_best(threads);
    greedy_permutation_result out;
    out.order.reserve(k);
    out.radii.reserve(k);
    out.order.push_back(start);

    detail::spin_barrier barrier(threads);
    std::atomic<bool> stop{false};
    std::exception_ptr interrupt;
    // Metric slack: skip only when the bound holds with room for rounding.
    constexpr double slack = 1.0 + 1e-9;

    parallel_for(threads, threads, [&](index_t task, int) {
        const int me = static_cast<int>(task);
        const index_t lo = n * me / threads, hi = n * (me + 1) / threads;
        for (index_t t = 0;; ++t) {
            const index_t newest = out.order[t];
            if (Source::is_metric && t > 0) {
                // Distances from the newest pick to earlier picks, split across threads.
                const index_t a = t * me / threads, b = t * (me + 1) / threads;
                for (index_t s = a; s < b; ++s) pick_to_new[s] = dist(newest, out.order[s]);
                barrier.arrive_and_wait();
            }
            detail::farthest best;
            for (index_t j = lo; j < hi; ++j) {
                double current = nearest[j];
                if (t == 0) {
                    current = nearest[j] = dist(newest, j);
                } else if (current >= 0) {
                    const bool may_improve =
                        !Source::is_metric || !(pick_to_new[nearest_pick[j]] > 2.0 * current * slack);
                    if (may_improve) {
                        const double d = dist(newest, j);
                        if (d < current) {
                            current = nearest[j] = d;
                            nearest_pick[j] = t;
                        }
                    }
                }
                if (j == newest) current = nearest[j] = -1.0;
                detail::keep_farthest(best, current, j);
            }
            slice_best[me] = best;
            barrier.arrive_and_wait();
            if (me == 0) {
                detail::farthest overall;
                for (const auto& b : slice_best) detail::keep_farthest(overall, b.distance, b.index);
                const double radius = std::max(0.0, overall.distance);
                out.radii.push_back(radius);
                const index_t picked = t + 1;
                bool done = picked >= k || overall.index < 0 || (eps >= 0 && radius <= eps);
                if (!done && check_interrupt && picked % 256 == 0) {
                    try {
                        check_interrupt();
                    } catch (...) {
                        interrupt = std::current_exception();
                        done = true;
                    }
                }
                if (done) {
                    stop = true;
                } else {
                    out.order.push_back(overall.index);
                    pick_to_new.resize(picked);
                }
            }
            barrier.arrive_and_wait();
            if (stop) break;
        }
    });
    if (interrupt) std::rethrow_exception(interrupt);
    return out;
}

}  // namespace toposcope
