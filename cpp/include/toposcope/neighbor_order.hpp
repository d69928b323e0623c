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
#include <numeric>
#include <cstring>
#include <type_traits>
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
        : dist_(dist), threshold_(threshold), sample_step_(coprime_step(dist.size())), lists_(dist.size()),
          sorted_(new std::atomic<std::size_t>[dist.size()]), built_(new std::atomic<bool>[dist.size()]) {
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

    // Distances compared as integers: for non-negative floating-point values
    // the bit patterns order as the values do (-0 is made +0 first). The
    // comparisons of gather_nearest then take no floating-point flags.
    using order_key_t = std::conditional_t<sizeof(value_t) == 8, std::int64_t, std::int32_t>;
    static order_key_t order_key(value_t d) {
        d += value_t(0);
        order_key_t k;
        std::memcpy(&k, &d, sizeof k);
        return k;
    }

    // The `chunk` smallest neighbours of v after `last` within `bound` (or
    // all of them, if fewer), unordered, at the front of `best`; returns how
    // many. Every entry is written and counted only when it qualifies, with
    // no branch but for ties with `last` (rare); every 256 entries, 2 * chunk
    // or more candidates are cut to the chunk smallest and `bound` drops to
    // the largest of those. v itself is skipped by scanning either side of it.
    static std::size_t gather_nearest(const value_t* row, index_t n, index_t v, const keyed& last, value_t& bound,
                                      std::size_t chunk, std::vector<keyed>& best) {
        constexpr index_t block = 256;
        best.resize(2 * chunk + block);
        keyed* out = best.data();
        const order_key_t last_key = last.distance < value_t(0) ? order_key_t(-1) : order_key(last.distance);
        const index_t last_vertex = last.vertex;
        std::size_t count = 0;
        auto scan = [&](index_t begin, index_t end) {
            for (index_t u0 = begin; u0 < end; u0 += block) {
                const order_key_t bound_key = order_key(bound);
                const index_t u1 = std::min(end, u0 + block);
                std::size_t c = count;
                for (index_t u = u0; u < u1; ++u) {
                    const value_t d = row[u];
                    const order_key_t k = order_key(d);
                    out[c] = keyed{d, vertex_t(u)};
                    c += (k <= bound_key) & (k > last_key);
                    if (k == last_key) c += (u < last_vertex) & (k <= bound_key);  // ties come by decreasing vertex
                }
                count = c;
                if (count >= 2 * chunk) {
                    std::nth_element(out, out + (chunk - 1), out + count, key_less);
                    bound = out[chunk - 1].distance;
                    count = chunk;
                }
            }
        };
        scan(0, v);
        scan(v + 1, n);
        if (count > chunk) std::nth_element(out, out + (chunk - 1), out + count, key_less);
        return std::min(count, chunk);
    }

    // A step through n positions that visits each once before repeating (one
    // coprime with n), about 0.618 n so that consecutive samples lie far apart.
    static index_t coprime_step(index_t n) {
        if (n < 2) return 1;
        index_t step = index_t(0.6180339887 * double(n)) | 1;
        while (std::gcd(step, n) != 1) step += 2;
        return step;
    }

    // A distance below which about 2 * chunk of the `remaining` candidates
    // after `last` lie, from a sample of 256 of v's row; the threshold when
    // the chunk is too large a share of them for an estimate to pay.
    value_t estimated_bound(const value_t* row, index_t v, const keyed& last, std::size_t remaining,
                            std::size_t chunk) const {
        constexpr std::size_t samples = 256;
        const index_t n = dist_.size();
        if (8 * chunk > remaining || index_t(samples) > n) return threshold_;
        thread_local std::vector<value_t> sample;
        sample.clear();
        const index_t step = sample_step_;
        index_t u = v;
        for (std::size_t k = 0; k < samples; ++k, u = u + step < n ? u + step : u + step - n) {
            const value_t d = row[u];
            if (d <= threshold_ && u != v &&
                (d > last.distance || (d == last.distance && u < index_t(last.vertex))))
                sample.push_back(d);
        }
        // Expected candidates below the r-th smallest sample: about r * remaining / |sample|.
        const std::size_t rank = 2 * chunk * sample.size() / remaining;
        if (rank >= sample.size()) return threshold_;
        std::nth_element(sample.begin(), sample.begin() + rank, sample.end());
        return sample[rank];
    }

    // Sorts v's list at least through position `through`, in doubling chunks:
    // each chunk is the smallest neighbours after the prefix, selected in one
    // pass over v's row (the list itself is never built). Returns the new
    // prefix length.
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
            // Candidates within `bound` are gathered (gather_nearest). The
            // first bound comes from a sample of the row, so that about
            // 2 * chunk pass it: rows are in vertex order, which may be
            // anything but random (classes interleaved, sorted by a
            // coordinate). An estimate that lets fewer than chunk through is
            // redone at the threshold.
            value_t bound = done + chunk == m ? threshold_ : estimated_bound(row, v, last, m - done, chunk);
            std::size_t count = gather_nearest(row, n, v, last, bound, chunk, best);
            if (count < chunk && bound < threshold_) {
                bound = threshold_;
                count = gather_nearest(row, n, v, last, bound, chunk, best);
            }
            best.resize(count);
            std::sort(best.begin(), best.end(), key_less);
            for (std::size_t p = 0; p < best.size(); ++p) l.write(done + p, best[p].vertex);
            done += best.size();
        }
        sorted_[v].store(done, std::memory_order_release);
        return done;
    }

    const dense_distance_matrix<value_t>& dist_;
    value_t threshold_;
    index_t sample_step_;   // estimated_bound's stride through a row
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
