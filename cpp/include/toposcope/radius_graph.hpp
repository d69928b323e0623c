// The pairs of points within a radius, without the n x n matrix: the graph a
// thresholded point cloud needs, in memory proportional to its edges.
//
// Points are bucketed in a grid on (up to) three coordinates, those of widest
// spread, with cells at least r wide on each: a point's partners then lie in
// the 3^k cells around its own. Each distance is euclidean_distance, the
// very sum of the square matrix, so the graph holds exactly the edges, and
// values, of the dense matrix up to r.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "parallel.hpp"
#include "points.hpp"
#include "types.hpp"

namespace toposcope {

// Every pair {u < v} within r, with its distance, in no particular order.
template <class value_t>
std::vector<filtered_edge<value_t>> points_within(const value_t* points, index_t n, index_t d, value_t r, int n_threads) {
    constexpr index_t cells_per_axis = 1024;   // keys stay below 2^30
    const index_t k = std::min<index_t>(d, 3);
    // The k coordinates of widest spread.
    std::vector<double> lo(d, 0.0), hi(d, 0.0);
    for (index_t a = 0; a < d; ++a) {
        lo[a] = hi[a] = n > 0 ? double(points[a]) : 0.0;
        for (index_t i = 1; i < n; ++i) {
            lo[a] = std::min(lo[a], double(points[i * d + a]));
            hi[a] = std::max(hi[a], double(points[i * d + a]));
        }
    }
    std::vector<index_t> axes(d);
    std::iota(axes.begin(), axes.end(), index_t(0));
    std::stable_sort(axes.begin(), axes.end(), [&](index_t a, index_t b) { return hi[a] - lo[a] > hi[b] - lo[b]; });
    axes.resize(k);
    std::vector<double> side(k);
    for (index_t a = 0; a < k; ++a) {
        const double spread = hi[axes[a]] - lo[axes[a]];
        // A little over r: a distance rounded down to r (float32 values: by
        // up to 2^-24 relative) still spans at most one cell boundary.
        side[a] = std::max({double(r) * (1 + 1e-6), spread / double(cells_per_axis - 1), 1e-300});
    }
    // Cell coordinates (at least r wide, so partners are at most one cell away) and keys.
    std::vector<std::int32_t> cell(std::size_t(n) * k);
    std::vector<std::int64_t> key(n);
    for (index_t i = 0; i < n; ++i) {
        std::int64_t kk = 0;
        for (index_t a = k; a-- > 0;) {
            const double c = std::floor((double(points[i * d + axes[a]]) - lo[axes[a]]) / side[a]);
            const auto ci = static_cast<std::int32_t>(std::min<double>(std::max(c, 0.0), double(cells_per_axis - 1)));
            cell[std::size_t(i) * k + a] = ci;
            kk = kk * cells_per_axis + ci;
        }
        key[i] = kk;
    }
    std::vector<index_t> order(n);
    std::iota(order.begin(), order.end(), index_t(0));
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return key[a] < key[b]; });
    std::vector<std::int64_t> cell_keys;   // distinct keys, ascending
    std::vector<index_t> cell_start;       // their first position in `order`
    for (index_t p = 0; p < n; ++p)
        if (p == 0 || key[order[p]] != key[order[p - 1]]) { cell_keys.push_back(key[order[p]]); cell_start.push_back(p); }
    cell_start.push_back(n);
    // The points in cell order, so that a cell's points are contiguous.
    std::vector<value_t> sorted(std::size_t(n) * d);
    for (index_t p = 0; p < n; ++p) std::copy(points + order[p] * d, points + (order[p] + 1) * d, sorted.begin() + p * d);

    index_t offsets = 1;
    for (index_t a = 0; a < k; ++a) offsets *= 3;
    n_threads = resolve_threads(n_threads);
    std::vector<std::vector<filtered_edge<value_t>>> parts(n_threads);
    const index_t block = 256;
    parallel_for((n + block - 1) / block, n_threads, [&](index_t b, int t) {
        std::vector<filtered_edge<value_t>>& out = parts[t];
        for (index_t p = b * block; p < std::min(n, (b + 1) * block); ++p) {
            const index_t i = order[p];
            const value_t* x = sorted.data() + p * d;
            for (index_t o = 0; o < offsets; ++o) {
                std::int64_t kk = 0;
                bool inside = true;
                index_t rest = o;
                std::int32_t c[3] = {0, 0, 0};
                for (index_t a = 0; a < k; ++a, rest /= 3) {
                    c[a] = cell[std::size_t(i) * k + a] + std::int32_t(rest % 3) - 1;
                    inside = inside && c[a] >= 0 && c[a] < cells_per_axis;
                }
                if (!inside) continue;
                for (index_t a = k; a-- > 0;) kk = kk * cells_per_axis + c[a];
                const auto it = std::lower_bound(cell_keys.begin(), cell_keys.end(), kk);
                if (it == cell_keys.end() || *it != kk) continue;
                const std::size_t ci = static_cast<std::size_t>(it - cell_keys.begin());
                for (index_t q = cell_start[ci]; q < cell_start[ci + 1]; ++q) {
                    const index_t j = order[q];
                    if (j <= i) continue;   // each pair once, from its smaller point
                    const value_t dist = euclidean_distance(x, sorted.data() + q * d, d);
                    if (dist <= r) out.push_back({i, j, dist});
                }
            }
        }
    });
    std::vector<filtered_edge<value_t>> all = std::move(parts[0]);
    for (int t = 1; t < n_threads; ++t) {
        all.insert(all.end(), parts[t].begin(), parts[t].end());
        std::vector<filtered_edge<value_t>>().swap(parts[t]);
    }
    return all;
}

}  // namespace toposcope
