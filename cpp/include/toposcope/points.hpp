// Distances from a point cloud, and the enclosing radius.
#pragma once

#include <cmath>
#include <vector>

#include "distance_matrix.hpp"
#include "parallel.hpp"

namespace toposcope {

// Euclidean distances of an (n, d) row-major cloud in scipy's condensed
// layout. Each distance is summed in double from coordinate differences (no
// Gram-matrix shortcut, which loses precision for near points).
template <class value_t>
std::vector<value_t> euclidean_condensed(const value_t* points, index_t n, index_t d, int n_threads) {
    std::vector<value_t> out(static_cast<std::size_t>(n) * (n - 1) / 2);
    const index_t block = 16;
    parallel_for((n + block - 1) / block, resolve_threads(n_threads), [&](index_t b, int) {
        for (index_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            const value_t* p = points + i * d;
            value_t* row = out.data() + (n * i - i * (i + 1) / 2 - i - 1);
            for (index_t j = i + 1; j < n; ++j) {
                const value_t* q = points + j * d;
                double s = 0;
                for (index_t k = 0; k < d; ++k) {
                    double diff = double(p[k]) - double(q[k]);
                    s += diff * diff;
                }
                row[j] = static_cast<value_t>(std::sqrt(s));
            }
        }
    });
    return out;
}

// min over i of max over j of the filtration value of edge ij: from this scale
// on the complex is a cone, so no bar lives past it except one H0 class.
template <class value_t>
value_t enclosing_radius(const dense_distance_matrix<value_t>& dist) {
    const index_t n = dist.size();
    std::vector<value_t> radius(n, value_t(0));
    for (index_t i = 0; i < n; ++i) {
        const value_t* row = dist.row(i);
        for (index_t j = i + 1; j < n; ++j) {
            value_t d = std::max({row[j], dist.vertex_birth(i), dist.vertex_birth(j)});
            radius[i] = std::max(radius[i], d);
            radius[j] = std::max(radius[j], d);
        }
    }
    value_t r = infinity<value_t>();
    for (value_t x : radius) r = std::min(r, x);
    return n == 1 ? dist.vertex_birth(0) : r;
}

}  // namespace toposcope
