// What the forward sweeps (forward_h1.hpp, forward_h2.hpp) share: the edges
// in filtration order, and the graph of the edges swept so far as bit rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "distance_matrix.hpp"
#include "parallel.hpp"
#include "types.hpp"

namespace toposcope {

template <class value_t>
struct sweep_edge {
    value_t diameter;
    std::uint32_t u, v;   // u > v
};

// The edges up to the threshold in filtration order (diameter, then
// decreasing index: types.hpp). A bucket sort: buckets by diameter, a
// comparison sort inside each (in parallel), ~16 edges a bucket.
template <class value_t>
std::vector<sweep_edge<value_t>> sorted_edges(const dense_distance_matrix<value_t>& dist, value_t threshold,
                                              int n_threads) {
    const index_t n = dist.size();
    std::vector<sweep_edge<value_t>> edges;
    index_t count = 0;
    value_t lo = infinity<value_t>(), hi = -infinity<value_t>();
    for (index_t i = 1; i < n; ++i) {
        const value_t* row = dist.row(i);
        for (index_t j = 0; j < i; ++j)
            if (row[j] <= threshold) { ++count; lo = std::min(lo, row[j]); hi = std::max(hi, row[j]); }
    }
    if (count == 0) return edges;
    const std::size_t buckets = std::size_t(std::max<index_t>(1, count / 16));
    const double scale = hi > lo ? double(buckets) / (double(hi) - double(lo)) : 0.0;
    auto bucket_of = [&](value_t d) {   // monotone in d
        return std::min(buckets - 1, static_cast<std::size_t>((double(d) - double(lo)) * scale));
    };
    std::vector<std::size_t> start(buckets + 1, 0);
    for (index_t i = 1; i < n; ++i) {
        const value_t* row = dist.row(i);
        for (index_t j = 0; j < i; ++j)
            if (row[j] <= threshold) ++start[bucket_of(row[j]) + 1];
    }
    for (std::size_t k = 0; k < buckets; ++k) start[k + 1] += start[k];
    edges.resize(count);
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (index_t i = 1; i < n; ++i) {
        const value_t* row = dist.row(i);
        for (index_t j = 0; j < i; ++j)
            if (row[j] <= threshold) edges[next[bucket_of(row[j])]++] = {row[j], std::uint32_t(i), std::uint32_t(j)};
    }
    const index_t tasks = std::min<index_t>(index_t(buckets), 256);
    parallel_for(tasks, n_threads, [&](index_t t, int) {
        const std::size_t first = buckets * std::size_t(t) / std::size_t(tasks);
        const std::size_t last = buckets * std::size_t(t + 1) / std::size_t(tasks);
        for (std::size_t k = first; k < last; ++k)
            std::sort(edges.begin() + start[k], edges.begin() + start[k + 1],
                      [](const sweep_edge<value_t>& a, const sweep_edge<value_t>& b) {
                          if (a.diameter != b.diameter) return a.diameter < b.diameter;
                          return a.u != b.u ? a.u > b.u : a.v > b.v;
                      });
    });
    return edges;
}

// The graph so far: one bit row per vertex.
class adjacency_bits {
public:
    explicit adjacency_bits(index_t n) : words_((n + 63) / 64), bits_(std::size_t(n) * words_, 0) {}
    void add(index_t a, index_t b) {
        bits_[std::size_t(a) * words_ + (b >> 6)] |= std::uint64_t(1) << (b & 63);
        bits_[std::size_t(b) * words_ + (a >> 6)] |= std::uint64_t(1) << (a & 63);
    }
    bool has(index_t a, index_t b) const { return (bits_[std::size_t(a) * words_ + (b >> 6)] >> (b & 63)) & 1; }
    index_t words() const { return words_; }
    const std::uint64_t* row(index_t a) const { return &bits_[std::size_t(a) * words_]; }

private:
    index_t words_;
    std::vector<std::uint64_t> bits_;
};

}  // namespace toposcope
