// Distances from a point cloud, and the enclosing radius.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
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

namespace detail {

// Rows of the square matrix are measured four at a time against columns of
// the cloud stored coordinate-major (all points' k-th coordinates together),
// so that the same coordinate of several points loads as one vector. Each sum
// is still euclidean_distance's: differences squared and added in coordinate
// order, in double, never fused (-ffp-contract=off), so every path agrees to
// the bit.
constexpr int distance_rows = 4;

// sums[r * n + j] = squared distance of row r of `rows` (R x d) to point j,
// for j in [j_begin, n), one point at a time: the tiles' remainder, and the
// whole kernel where the compiler has no vector types.
inline void squared_sums_one_by_one(const double* rows, const double* columns, index_t n, index_t d,
                                    index_t j_begin, double* sums) {
    for (index_t j = j_begin; j < n; ++j)
        for (int r = 0; r < distance_rows; ++r) {
            double s = 0;
            for (index_t k = 0; k < d; ++k) {
                const double a = rows[r * d + k] - columns[k * n + j];
                s += a * a;
            }
            sums[r * n + j] = s;
        }
}

#if defined(__GNUC__)
#define TOPOSCOPE_ALWAYS_INLINE __attribute__((always_inline)) inline
template <int bytes>
struct double_lanes {
    typedef double type __attribute__((vector_size(bytes)));
};

// The same, eight points at a time in vectors of `vec`.
template <class vec>
TOPOSCOPE_ALWAYS_INLINE void squared_sums_with(const double* rows, const double* columns, index_t n, index_t d,
                                               index_t j_begin, double* sums) {
    constexpr int R = distance_rows, L = sizeof(vec) / sizeof(double), W = 8, V = W / L;
    index_t j = j_begin;
    for (; j + W <= n; j += W) {
        vec s[R][V] = {};
        for (index_t k = 0; k < d; ++k) {
            vec q[V];
            for (int v = 0; v < V; ++v) std::memcpy(&q[v], columns + k * n + j + v * L, sizeof(vec));
            for (int r = 0; r < R; ++r) {
                const double x = rows[r * d + k];
                for (int v = 0; v < V; ++v) {
                    const vec a = x - q[v];
                    s[r][v] += a * a;
                }
            }
        }
        for (int r = 0; r < R; ++r)
            for (int v = 0; v < V; ++v) std::memcpy(sums + r * n + j + v * L, &s[r][v], sizeof(vec));
    }
    squared_sums_one_by_one(rows, columns, n, d, j, sums);
}
#endif

// One version per instruction set where the compiler can pick at load time
// (GCC on x86-64 Linux: AVX2 vectors of four doubles, else SSE2's two).
#if TOPOSCOPE_MULTIVERSIONING
__attribute__((target("avx2"))) static void squared_sums(const double* rows, const double* columns, index_t n,
                                                         index_t d, index_t j_begin, double* sums) {
    squared_sums_with<double_lanes<32>::type>(rows, columns, n, d, j_begin, sums);
}
__attribute__((target("default"))) static void squared_sums(const double* rows, const double* columns, index_t n,
                                                            index_t d, index_t j_begin, double* sums) {
    squared_sums_with<double_lanes<16>::type>(rows, columns, n, d, j_begin, sums);
}
#elif defined(__GNUC__)
static inline void squared_sums(const double* rows, const double* columns, index_t n, index_t d, index_t j_begin,
                                double* sums) {
    squared_sums_with<double_lanes<16>::type>(rows, columns, n, d, j_begin, sums);
}
#else
static inline void squared_sums(const double* rows, const double* columns, index_t n, index_t d, index_t j_begin,
                                double* sums) {
    squared_sums_one_by_one(rows, columns, n, d, j_begin, sums);
}
#endif

}  // namespace detail

// Euclidean distances of an (n, d) row-major cloud as a square matrix. Each
// distance is summed in double from coordinate differences (no Gram-matrix
// shortcut, which loses precision for near points), then mirrored. Every
// entry is written here, the upper triangle and diagonal by the first pass
// and the lower by the second, each on all threads (square_buffer).
template <class value_t>
square_buffer<value_t> euclidean_square(const value_t* points, index_t n, index_t d, int n_threads) {
    square_buffer<value_t> out(static_cast<std::size_t>(n) * n);
    const int threads = resolve_threads(n_threads);
    constexpr index_t R = detail::distance_rows;
    std::vector<double> columns(static_cast<std::size_t>(n) * d);
    for (index_t i = 0; i < n; ++i)
        for (index_t k = 0; k < d; ++k) columns[k * n + i] = double(points[i * d + k]);
    // Per thread: the block's rows in double, and their sums to every point.
    std::vector<std::vector<double>> rows(threads, std::vector<double>(R * d)), sums(threads, std::vector<double>(R * n));
    parallel_for((n + R - 1) / R, threads, [&](index_t b, int t) {
        const index_t i0 = b * R, count = std::min(R, n - i0);
        for (index_t r = 0; r < R; ++r)  // a short last block repeats its last row
            for (index_t k = 0; k < d; ++k) rows[t][r * d + k] = double(points[(i0 + std::min(r, count - 1)) * d + k]);
        detail::squared_sums(rows[t].data(), columns.data(), n, d, i0 + 1, sums[t].data());
        for (index_t r = 0; r < count; ++r) {
            const index_t i = i0 + r;
            const double* s = sums[t].data() + r * n;
            value_t* row = out.data() + i * n;
            row[i] = value_t(0);
            for (index_t j = i + 1; j < n; ++j) row[j] = static_cast<value_t>(std::sqrt(s[j]));
        }
    });
    // Mirror the upper triangle in cache-friendly tiles.
    const index_t tile = 64;
    parallel_for((n + tile - 1) / tile, threads, [&](index_t b, int) {
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
