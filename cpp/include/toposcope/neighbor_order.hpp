// Each vertex's neighbours sorted by distance, so that the cofacets of a
// simplex can be visited in filtration order (Bauer, Matuszewski and
// Vejdemo-Johansson's observation): a cofacet's diameter is the largest
// distance from the new vertex to the simplex, so walking the vertices' sorted
// lists in step yields cofacets by increasing diameter without enumerating the
// rest.
//
// Lists hold vertex numbers only (distances are read back from the matrix
// rows), ordered by (distance, decreasing vertex) so that equal diameters come
// in decreasing cofacet index, which is the filtration's tie order. A list is
// sorted lazily, a growing prefix at a time: reductions mostly read the
// neighbours just beyond a simplex's diameter, rarely the far end (10,000
// activation-like points: 160 of 7,200 neighbours on average).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <cstdint>
#include <vector>

#include "distance_matrix.hpp"
#include "heap.hpp"
#include "parallel.hpp"

namespace toposcope {

// A neighbour with its distance, and the order of every neighbour list here:
// by distance, ties by decreasing vertex (the filtration's tie order).
template <class value_t>
struct keyed_neighbor {
    value_t distance;
    std::uint32_t vertex;
};
template <class value_t>
inline bool neighbor_less(const keyed_neighbor<value_t>& a, const keyed_neighbor<value_t>& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.vertex > b.vertex);
}
// The same order as an object, which the sort, selection and heap calls inline.
struct neighbor_key_less {
    template <class value_t>
    bool operator()(const keyed_neighbor<value_t>& a, const keyed_neighbor<value_t>& b) const {
        return neighbor_less(a, b);
    }
};

template <class value_t>
class neighbor_order {
public:
    using vertex_t = std::uint32_t;

    neighbor_order(const dense_distance_matrix<value_t>& dist, value_t threshold)
        : dist_(dist), threshold_(threshold), lists_(dist.size()), sorted_(new std::atomic<std::size_t>[dist.size()]),
          built_(new std::atomic<bool>[dist.size()]) {
        for (index_t v = 0; v < dist.size(); ++v) {
            sorted_[v].store(0, std::memory_order_relaxed);
            built_[v].store(false, std::memory_order_relaxed);
        }
    }

    // Readers on several threads are safe: a list's prefix is extended under
    // a lock, and an entry once sorted is never moved, so the fast path (an
    // entry inside the published prefix) takes no lock.

    // Number of neighbours of v within the threshold.
    std::size_t size(index_t v) { return list(v).size; }

    // Makes v's order valid up to position `through` (inclusive, or to the
    // end of the list): call before reading a position with at().
    void sort_through(index_t v, std::size_t through) {
        list(v);
        if (through >= sorted_[v].load(std::memory_order_acquire)) extend(v, through);
    }
    // The neighbour at a position that sort_through has made valid.
    vertex_t at(index_t v, std::size_t pos) const { return lists_[v].at(pos); }

    // First position in v's order whose distance is > x (or >= x when inclusive).
    std::size_t first_beyond(index_t v, value_t x, bool inclusive) {
        const sorted_list& l = list(v);
        const value_t* row = dist_.row(v);
        auto below = [&](std::size_t pos) {
            const vertex_t u = l.at(pos);
            return inclusive ? row[u] < x : row[u] <= x;
        };
        std::size_t done = sorted_[v].load(std::memory_order_acquire);
        while (done < l.size && (done == 0 || below(done - 1))) done = extend(v, done);
        std::size_t lo = 0, hi = done;   // the first position not below x
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (below(mid)) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

private:
    using keyed = keyed_neighbor<value_t>;
    static constexpr neighbor_key_less key_less{};
    std::mutex& lock_of(index_t v) { return locks_[static_cast<std::size_t>(v) % locks_.size()]; }

    // The sorted prefix of a vertex's neighbours, in blocks of 128, 256, 512,
    // ... entries, taken as the prefix grows: reductions read the first
    // hundred or so of thousands, and a block never moves once written, so
    // other threads read it without a lock.
    struct sorted_list {
        static constexpr std::size_t first_block = 128;
        std::array<std::unique_ptr<vertex_t[]>, 32> blocks;   // 128 * (2^32 - 1) positions
        std::size_t size = 0;

        // Block b holds positions [first_block * (2^b - 1), first_block * (2^(b+1) - 1)).
        static std::size_t block_of(std::size_t pos) {
            return std::size_t(63 - __builtin_clzll((pos / first_block) + 1));
        }
        static std::size_t block_start(std::size_t b) { return first_block * ((std::size_t(1) << b) - 1); }
        vertex_t at(std::size_t pos) const {
            const std::size_t b = block_of(pos);
            return blocks[b][pos - block_start(b)];
        }
        void write(std::size_t pos, vertex_t u) {   // under the list's lock
            const std::size_t b = block_of(pos);
            if (!blocks[b]) blocks[b].reset(new vertex_t[std::min(first_block << b, size - block_start(b))]);
            blocks[b][pos - block_start(b)] = u;
        }
    };

    const sorted_list& list(index_t v) {
        if (!built_[v].load(std::memory_order_acquire)) {
            std::lock_guard<std::mutex> guard(lock_of(v));
            if (!built_[v].load(std::memory_order_relaxed)) {
                const value_t* row = dist_.row(v);
                std::size_t count = 0;
                for (index_t u = 0; u < dist_.size(); ++u) count += row[u] <= threshold_;
                count -= row[v] <= threshold_;
                lists_[v].size = count;
                built_[v].store(true, std::memory_order_release);
            }
        }
        return lists_[v];
    }

    // Sorts v's list at least through position `through`, in doubling chunks:
    // each chunk is the smallest neighbours after the prefix, selected in one
    // pass over v's row (the list itself is never built). Once the prefix
    // would pass a quarter of the list, the whole rest is sorted at once.
    // Returns the new prefix length.
    std::size_t extend(index_t v, std::size_t through) {
        std::lock_guard<std::mutex> guard(lock_of(v));
        sorted_list& l = lists_[v];
        const value_t* row = dist_.row(v);
        const index_t n = dist_.size();
        std::size_t done = sorted_[v].load(std::memory_order_relaxed);
        const std::size_t m = l.size;
        thread_local std::vector<keyed> best;
        while (done <= through && done < m) {
            const std::size_t chunk = std::min(m - done, std::max<std::size_t>(128, done));
            // Neighbours after the prefix's last entry (all when it is empty).
            const keyed last = done > 0 ? keyed{row[l.at(done - 1)], l.at(done - 1)} : keyed{-infinity<value_t>(), 0};
            auto after_last = [&](value_t d, index_t u) {
                return d > last.distance || (d == last.distance && u < index_t(last.vertex));
            };
            best.clear();
            if (4 * (done + chunk) > m) {
                for (index_t u = 0; u < n; ++u) {
                    const value_t d = row[u];
                    if (d <= threshold_ && u != v && after_last(d, u)) best.push_back(keyed{d, vertex_t(u)});
                }
                std::sort(best.begin(), best.end(), key_less);
            } else {
                // Candidates within `bound` are gathered; whenever there are
                // 2 * chunk of them, the chunk smallest are kept and bound
                // drops to the largest of those. Few arrive after the first
                // cut (chunk / i at the i-th entry), so this is one pass over
                // the row and a few selections of 2 * chunk.
                auto keep_smallest = [&] {
                    std::nth_element(best.begin(), best.begin() + (chunk - 1), best.end(), key_less);
                    best.resize(chunk);
                    return best[chunk - 1].distance;
                };
                value_t bound = threshold_;
                for (index_t u = 0; u < n; ++u) {
                    const value_t d = row[u];
                    if (!(d <= bound) || u == v || !after_last(d, u)) continue;
                    best.push_back(keyed{d, vertex_t(u)});
                    if (best.size() == 2 * chunk) bound = keep_smallest();
                }
                if (best.size() > chunk) keep_smallest();
                std::sort(best.begin(), best.end(), key_less);
            }
            for (std::size_t p = 0; p < best.size(); ++p) l.write(done + p, best[p].vertex);
            done += best.size();
        }
        sorted_[v].store(done, std::memory_order_release);
        return done;
    }

    const dense_distance_matrix<value_t>& dist_;
    value_t threshold_;
    std::vector<sorted_list> lists_;
    std::unique_ptr<std::atomic<std::size_t>[]> sorted_;
    std::unique_ptr<std::atomic<bool>[]> built_;
    std::array<std::mutex, 64> locks_;
};

// The k nearest neighbours of every vertex, in the same order, built at once
// in parallel. They answer "which vertices lie within d of v" whenever d is
// below the list's reach, which is what the short edges need: their common
// neighbours are few, and a scan of the whole matrix row would find them last.
template <class value_t>
class nearest_neighbors {
public:
    using vertex_t = std::uint32_t;

    nearest_neighbors(const dense_distance_matrix<value_t>& dist, index_t k, int n_threads)
        : n_(dist.size()), k_(std::max<index_t>(0, std::min(k, dist.size() - 1))),
          items_(std::size_t(n_) * k_), reach_(n_, infinity<value_t>()) {
        const index_t block = 64;
        const int threads = resolve_threads(n_threads);
        std::vector<std::vector<keyed>> scratch(threads);
        parallel_for((n_ + block - 1) / block, threads, [&](index_t b, int t) {
            std::vector<keyed>& best = scratch[t];
            for (index_t v = b * block; v < std::min(n_, (b + 1) * block); ++v) {
                // A max-heap of the k + 1 smallest so far: one comparison per
                // vertex, as later vertices rarely enter it.
                const value_t* row = dist.row(v);
                const std::size_t keep = std::size_t(k_) + 1;
                best.clear();
                for (index_t u = 0; u < n_; ++u) {
                    if (u == v) continue;
                    const keyed x{row[u], static_cast<vertex_t>(u)};
                    if (best.size() < keep) {
                        best.push_back(x);
                        std::push_heap(best.begin(), best.end(), key_less);
                    } else if (key_less(x, best.front())) {
                        replace_heap_top(best, x, key_less);
                    }
                }
                std::sort(best.begin(), best.end(), key_less);
                for (index_t p = 0; p < k_; ++p) items_[std::size_t(v) * k_ + p] = best[p].vertex;
                // Everything outside the list is at least as far as its last entry.
                if (k_ > 0 && index_t(best.size()) > k_) reach_[v] = best[k_ - 1].distance;
            }
        });
    }

    // Whether every vertex within distance d of v is in v's list.
    bool covers(index_t v, value_t d) const { return d < reach_[v]; }
    const vertex_t* begin(index_t v) const { return items_.data() + std::size_t(v) * k_; }
    const vertex_t* end(index_t v) const { return begin(v) + k_; }

private:
    using keyed = keyed_neighbor<value_t>;
    static constexpr neighbor_key_less key_less{};
    index_t n_, k_;
    std::vector<vertex_t> items_;
    std::vector<value_t> reach_;
};

}  // namespace toposcope
