// Distances from a point cloud, and the enclosing radius.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "distance_matrix.hpp"
#include "parallel.hpp"

namespace toposcope {

// The Euclidean distance of two points with d coordinates: differences
// squared and added in coordinate order, in double, as gudhi and scipy do.
// Every path that measures points (the square matrix, the radius graph) uses
// this sum, so that they agree to the last bit, and so do tied bars.
template <class value_t>
inline value_t euclidean_distance(const value_t* p, const value_t* q, index_t d) {
    double s = 0;
    for (index_t k = 0; k < d; ++k) {
        const double a = double(p[k]) - double(q[k]);
        s += a * a;
    }
    return static_cast<value_t>(std::sqrt(s));
}

// Euclidean distances of an (n, d) row-major cloud as a square matrix. Each
// distance is summed in double from coordinate differences (no Gram-matrix
// shortcut, which loses precision for near points), then mirrored. Every
// entry is written here, the upper triangle and diagonal by the first pass
// and the lower by the second, each on all threads (square_buffer).
template <class value_t>
square_buffer<value_t> euclidean_square(const value_t* points, index_t n, index_t d, int n_threads) {
    square_buffer<value_t> out(static_cast<std::size_t>(n) * n);
    const index_t block = 16;
    parallel_for((n + block - 1) / block, resolve_threads(n_threads), [&](index_t b, int) {
        for (index_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            const value_t* p = points + i * d;
            value_t* row = out.data() + i * n;
            row[i] = value_t(0);
            index_t j = i + 1;
            // Four distances at a time, each still euclidean_distance's
            // sequential sum in k (bit-equal): four independent chains of adds
            // instead of one latency-bound chain.
            for (; j + 4 <= n; j += 4) {
                const value_t* q0 = points + j * d;
                const value_t *q1 = q0 + d, *q2 = q1 + d, *q3 = q2 + d;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (index_t k = 0; k < d; ++k) {
                    const double x = double(p[k]);
                    const double a0 = x - double(q0[k]), a1 = x - double(q1[k]);
                    const double a2 = x - double(q2[k]), a3 = x - double(q3[k]);
                    s0 += a0 * a0;
                    s1 += a1 * a1;
                    s2 += a2 * a2;
                    s3 += a3 * a3;
                }
                row[j] = static_cast<value_t>(std::sqrt(s0));
                row[j + 1] = static_cast<value_t>(std::sqrt(s1));
                row[j + 2] = static_cast<value_t>(std::sqrt(s2));
                row[j + 3] = static_cast<value_t>(std::sqrt(s3));
            }
            for (; j < n; ++j) row[j] = euclidean_distance(p, points + j * d, d);
        }
    });
    // Mirror the upper triangle in cache-friendly tiles.
    const index_t tile = 64;
    parallel_for((n + tile - 1) / tile, resolve_threads(n_threads), [&](index_t b, int) {
        for (index_t i0 = b * tile; i0 < std::min(n, (b + 1) * tile); i0 += tile)
            for (index_t j0 = 0; j0 <= i0; j0 += tile)
                for (index_t i = i0; i < std::min(n, i0 + tile); ++i)
                    for (index_t j = j0; j < std::min(i, j0 + tile); ++j) out[i * n + j] = out[j * n + i];
    });
    return out;
}

// min over i of max over j of the filtration value of edge ij: from this scale
// on the complex is a cone, so no bar lives past it except one H0 class.
template <class value_t>
value_t enclosing_radius(const dense_distance_matrix<value_t>& dist, int n_threads = 1) {
    const index_t n = dist.size();
    if (n == 1) return dist.vertex_birth(0);
    const index_t block = 256;
    const int threads = resolve_threads(n_threads);
    std::vector<value_t> radius(threads, infinity<value_t>());
    parallel_for((n + block - 1) / block, threads, [&](index_t b, int t) {
        for (index_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            const value_t* row = dist.row(i);
            value_t m = value_t(0);
            // Two plain max loops around the diagonal (vectorised); vertex
            // births only when there are any.
            for (index_t j = 0; j < i; ++j) m = std::max(m, row[j]);
            for (index_t j = i + 1; j < n; ++j) m = std::max(m, row[j]);
            if (dist.has_births())
                for (index_t j = 0; j < n; ++j)
                    if (j != i) m = std::max({m, dist.vertex_birth(i), dist.vertex_birth(j)});
            radius[t] = std::min(radius[t], m);
        }
    });
    return *std::min_element(radius.begin(), radius.end());
}

}  // namespace toposcope
