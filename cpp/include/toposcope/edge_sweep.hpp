// What the forward sweeps (forward_h1.hpp, forward_h2.hpp) share: the edges
// in filtration order, and the graph of the edges swept so far as bit rows.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "distance_matrix.hpp"
#include "h0.hpp"
#include "parallel.hpp"
#include "simplex.hpp"
#include "types.hpp"

namespace toposcope {

template <class value_t>
struct sweep_edge {
    value_t diameter;
    std::uint32_t u, v;   // u > v
};

// Calls f(j, d) for each edge {i, j} with j < i of a dense or sparse matrix.
template <class value_t, class F>
inline void for_each_lower(const dense_distance_matrix<value_t>& dist, index_t i, F&& f) {
    const value_t* row = dist.row(i);
    for (index_t j = 0; j < i; ++j) f(j, row[j]);
}
template <class value_t, class F>
inline void for_each_lower(const sparse_distance_matrix<value_t>& dist, index_t i, F&& f) {
    for (auto it = dist.begin(i); it != dist.end(i) && it->vertex < i; ++it) f(index_t(it->vertex), it->diameter);
}

// The swept edges; their storage is not zero-filled before they are written.
template <class value_t>
using sweep_edge_list = std::vector<sweep_edge<value_t>, uninitialized_allocator<sweep_edge<value_t>>>;

// The edges up to the threshold in filtration order (diameter, then
// decreasing index: types.hpp). A bucket sort: buckets by diameter (~4 edges
// each), a comparison sort inside each. Every pass runs on all threads, each
// thread on a band of rows with its own counts, so that the edges land in
// their buckets without locks and the result does not depend on threads.
//
// Two levels: 4,096 equal bins over the diameters, then ~4-edge buckets
// inside each bin (~16-edge ones took 1.5x longer, in insertion sorts). With
// one level of equal-width buckets, the edges were scattered over ~100,000
// places at once (cache misses) and, as distances in 50 dimensions crowd
// around their mean, an edge shared its bucket with 36 others on a
// 50-dimensional cube and 73 on activation-like points.
template <class Matrix, class value_t>
sweep_edge_list<value_t> sorted_edges(const Matrix& dist, value_t threshold, int n_threads) {
    const index_t n = dist.size();
    const int parts = std::max(1, std::min(n_threads, 8));
    // Bands of rows i in [first[p], first[p+1]) with about equal pairs (i of them in row i).
    std::vector<index_t> first(parts + 1, n);
    first[0] = 1;
    for (int p = 1; p < parts; ++p)
        first[p] = std::max<index_t>(1, index_t(double(n) * std::sqrt(double(p) / double(parts))));
    struct band { index_t count = 0; value_t lo = infinity<value_t>(), hi = -infinity<value_t>(); };
    std::vector<band> bands(parts);
    // A dense matrix's threshold is finite (the enclosing radius at most):
    // the bins then span [0, threshold] and the first pass is saved (the
    // count comes from the bins; any entry below 0 goes to the first bin,
    // which is sorted like the others). It took a third of the passes over
    // the matrix: torus_2000's edge list 0.025 -> 0.021 s.
    if (!Matrix::is_sparse && threshold < infinity<value_t>()) {
        bands[0] = {1, value_t(0), threshold};
    } else parallel_for(parts, parts, [&](index_t p, int) {
        band b;   // a local, which the compiler keeps in registers: the matrix might alias bands[p]
        for (index_t i = first[p]; i < first[p + 1]; ++i)
            for_each_lower(dist, i, [&](index_t, value_t d) {
                if (d <= threshold) { ++b.count; b.lo = std::min(b.lo, d); b.hi = std::max(b.hi, d); }
            });
        bands[p] = b;
    });
    band all;
    for (const band& b : bands) { all.count += b.count; all.lo = std::min(all.lo, b.lo); all.hi = std::max(all.hi, b.hi); }
    sweep_edge_list<value_t> edges;
    if (all.count == 0) return edges;
    const std::size_t bins = 4096;
    const double lo = double(all.lo);
    const double bin_scale = all.hi > all.lo ? double(bins) / (double(all.hi) - lo) : 0.0;
    auto bin_of = [&](value_t d) {
        const double y = (double(d) - lo) * bin_scale;
        return y <= 0 ? std::size_t(0) : std::min(bins - 1, static_cast<std::size_t>(y));
    };
    std::vector<std::vector<std::size_t>> in_bin(parts, std::vector<std::size_t>(bins, 0));
    parallel_for(parts, parts, [&](index_t p, int) {
        auto& h = in_bin[p];
        for (index_t i = first[p]; i < first[p + 1]; ++i)
            for_each_lower(dist, i, [&](index_t, value_t d) {
                if (d <= threshold) ++h[bin_of(d)];
            });
    });
    // Each band's edges go to their bin first: 4,096 places to write to at a
    // time stay in cache, where ~100,000 buckets did not. in_bin[p][c] becomes
    // where band p's next edge of bin c goes.
    std::vector<std::size_t> start(bins + 1, 0);
    for (std::size_t c = 0; c < bins; ++c) {
        std::size_t offset = start[c];
        for (int p = 0; p < parts; ++p) { const std::size_t m = in_bin[p][c]; in_bin[p][c] = offset; offset += m; }
        start[c + 1] = offset;
    }
    edges.resize(start[bins]);
    parallel_for(parts, parts, [&](index_t p, int) {
        auto& next = in_bin[p];
        for (index_t i = first[p]; i < first[p + 1]; ++i)
            for_each_lower(dist, i, [&](index_t j, value_t d) {
                if (d <= threshold) edges[next[bin_of(d)]++] = {d, std::uint32_t(i), std::uint32_t(j)};
            });
    });
    // Then each bin on its own, in cache: its edges spread over about one
    // bucket per 4, by interpolating the diameter inside the bin (so buckets
    // follow the distribution of the diameters, which in 50 dimensions crowds
    // around its mean), and each bucket sorted by comparisons.
    auto less = [](const sweep_edge<value_t>& a, const sweep_edge<value_t>& b) {
        if (a.diameter != b.diameter) return a.diameter < b.diameter;
        return a.u != b.u ? a.u > b.u : a.v > b.v;
    };
    const int threads = resolve_threads(n_threads);
    std::vector<std::vector<sweep_edge<value_t>>> spare(threads);
    std::vector<std::vector<std::size_t>> counts(threads);
    const index_t tasks = 256;
    parallel_for(tasks, threads, [&](index_t t, int thread) {
        auto& tmp = spare[thread];
        auto& count = counts[thread];
        for (std::size_t c = bins * std::size_t(t) / tasks; c < bins * std::size_t(t + 1) / tasks; ++c) {
            const std::size_t from = start[c], m = start[c + 1] - from;
            auto* bin = edges.data() + from;
            if (m <= 32 || bin_scale == 0) { std::sort(bin, bin + m, less); continue; }
            const std::size_t width = m / 4;
            const double x0 = double(c) / bin_scale + lo, scale = bin_scale * double(width);
            auto bucket = [&](value_t d) {   // monotone in d
                const double y = (double(d) - x0) * scale;
                return y <= 0 ? std::size_t(0) : std::min(width - 1, static_cast<std::size_t>(y));
            };
            count.assign(width + 1, 0);
            for (std::size_t e = 0; e < m; ++e) ++count[bucket(bin[e].diameter) + 1];
            for (std::size_t k = 0; k < width; ++k) count[k + 1] += count[k];
            tmp.resize(m);
            for (std::size_t e = 0; e < m; ++e) tmp[count[bucket(bin[e].diameter)]++] = bin[e];
            // count[k] is now the end of bucket k.
            std::size_t begin = 0;
            for (std::size_t k = 0; k < width; ++k) {
                std::sort(tmp.begin() + begin, tmp.begin() + count[k], less);
                begin = count[k];
            }
            std::copy(tmp.begin(), tmp.end(), bin);
        }
    });
    return edges;
}

// A graph as one bit row per vertex (the sweeps' graph so far, forward_h1's
// active edges).
class adjacency_bits {
public:
    explicit adjacency_bits(index_t n) : words_((n + 63) / 64), bits_(std::size_t(n) * words_, 0) {}
    void add(index_t a, index_t b) {
        bits_[std::size_t(a) * words_ + (b >> 6)] |= std::uint64_t(1) << (b & 63);
        bits_[std::size_t(b) * words_ + (a >> 6)] |= std::uint64_t(1) << (a & 63);
    }
    void remove(index_t a, index_t b) {
        bits_[std::size_t(a) * words_ + (b >> 6)] &= ~(std::uint64_t(1) << (b & 63));
        bits_[std::size_t(b) * words_ + (a >> 6)] &= ~(std::uint64_t(1) << (a & 63));
    }
    bool has(index_t a, index_t b) const { return (bits_[std::size_t(a) * words_ + (b >> 6)] >> (b & 63)) & 1; }
    index_t words() const { return words_; }
    const std::uint64_t* row(index_t a) const { return &bits_[std::size_t(a) * words_]; }

private:
    index_t words_;
    std::vector<std::uint64_t> bits_;
};

// What a sweep can know about each edge without its state, worked out ahead of
// it on a second thread: whether the edge closes a cycle (else it joins two
// components: a forest edge, an H0 death) and whether some triangle has it as
// youngest edge (a common neighbour of its ends among the earlier edges).
// The sweep reads flags(x) after waiting for the lookahead to pass x.
template <class value_t>
class edge_lookahead {
public:
    static constexpr std::uint8_t closes_cycle = 1, has_triangle = 2;

    edge_lookahead(const sweep_edge_list<value_t>& edges, const simplex_codec& codec, bool on_thread)
        : edges_(edges), codec_(codec), n_(codec.num_vertices()), flags_(edges.size(), 0) {
        if (on_thread) worker_ = std::thread([this] { work(); });
        else work();
    }
    ~edge_lookahead() { stop_ = true; if (worker_.joinable()) worker_.join(); }
    edge_lookahead(const edge_lookahead&) = delete;
    edge_lookahead& operator=(const edge_lookahead&) = delete;

    std::uint8_t flags(std::size_t x) {
        while (done_.load(std::memory_order_acquire) <= x) {
            if (failed_.load()) std::rethrow_exception(error_);
            std::this_thread::yield();
        }
        return flags_[x];
    }
    // The spanning forest, in filtration order (after the last flags()).
    spanning_forest<value_t> take_forest() {
        if (worker_.joinable()) worker_.join();
        if (failed_.load()) std::rethrow_exception(error_);
        return std::move(forest_);
    }

private:
    void work() {
        try {
            union_find components(n_);
            adjacency_bits graph(n_);
            const std::size_t m = edges_.size();
            for (std::size_t x = 0; x < m && !stop_; ++x) {
                const auto& e = edges_[x];
                const index_t a = components.find(e.u), b = components.find(e.v);
                std::uint8_t f = 0;
                if (a != b) {
                    components.link(a, b);
                    forest_.edges.push_back({e.diameter, codec_.edge_index(e.u, e.v)});
                } else {
                    f = closes_cycle;
                    const std::uint64_t *p = graph.row(e.u), *q = graph.row(e.v);
                    for (index_t k = graph.words() - 1; k >= 0; --k)
                        if (p[k] & q[k]) { f |= has_triangle; break; }
                }
                flags_[x] = f;
                graph.add(e.u, e.v);
                if ((x & 255) == 255) done_.store(x + 1, std::memory_order_release);
            }
            done_.store(m, std::memory_order_release);
        } catch (...) {
            error_ = std::current_exception();
            failed_ = true;
        }
    }

    const sweep_edge_list<value_t>& edges_;
    const simplex_codec& codec_;
    index_t n_;
    std::vector<std::uint8_t> flags_;
    spanning_forest<value_t> forest_;
    std::atomic<std::size_t> done_{0};
    std::atomic<bool> stop_{false}, failed_{false};
    std::exception_ptr error_;
    std::thread worker_;
};

// What both sweeps hold: the edges in order, the graph swept so far, and
// the codes of the simplices they report.
template <class value_t>
class forward_sweep_base {
public:
    using rank_t = std::uint32_t;   // an edge's position in the sweep
    static constexpr rank_t none = ~rank_t(0);

    template <class Matrix>   // dense or sparse
    forward_sweep_base(const Matrix& dist, value_t threshold, const simplex_codec& codec, int n_threads,
                       std::function<void()> check_interrupt = {})
        : codec_(codec), n_(dist.size()), threads_(n_threads), check_interrupt_(std::move(check_interrupt)),
          adjacency_(dist.size()), edges_(sorted_edges(dist, threshold, n_threads)) {}

    index_t num_edges() const { return static_cast<index_t>(edges_.size()); }

protected:
    // The forest edges and the flags of every edge, on a second thread if any.
    edge_lookahead<value_t> lookahead() const { return edge_lookahead<value_t>(edges_, codec_, threads_ > 1); }
    // Lets Ctrl-C through every `period` edges (a power of two).
    void poll(rank_t x, rank_t period) const {
        if ((x & (period - 1)) == 0 && check_interrupt_) check_interrupt_();
    }

    index_t edge_index(rank_t r) const { return codec_.edge_index(edges_[r].u, edges_[r].v); }
    // The codes of the simplices on these (distinct) vertices, in any order.
    index_t triangle_index(index_t a, index_t b, index_t c) const { return simplex_index<3>({a, b, c}); }
    index_t tetrahedron_index(index_t a, index_t b, index_t c, index_t d) const {
        return simplex_index<4>({a, b, c, d});
    }

    const simplex_codec& codec_;
    index_t n_;
    int threads_;
    std::function<void()> check_interrupt_;
    adjacency_bits adjacency_;                 // the graph of the edges swept so far
    sweep_edge_list<value_t> edges_;   // in filtration order

private:
    template <std::size_t k>
    index_t simplex_index(std::array<index_t, k> verts) const {
        std::sort(verts.begin(), verts.end(), std::greater<index_t>());
        index_t idx = 0;
        for (std::size_t i = 0; i < k; ++i) idx += codec_.binomial(verts[i], index_t(k - i));
        return idx;
    }
};

}  // namespace toposcope
