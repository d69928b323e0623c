// Simplices as indices in the combinatorial number system, and back.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "binomial.hpp"

namespace toposcope {

class simplex_codec {
public:
    // Codes simplices of dimension <= max_dim on n vertices.
    simplex_codec(index_t n, index_t max_dim) : n_(n), binomial_(n, max_dim + 1) {}

    index_t num_vertices() const { return n_; }
    index_t binomial(index_t n, index_t k) const { return binomial_(n, k); }

    // Largest vertex v < top with C(v, k) <= idx. C(v, k) ~ (v - (k-1)/2)^k / k!
    // gives a guess within a step or two; short walks fix it exactly.
    index_t max_vertex(index_t idx, index_t k, index_t top) const {
        if (k == 1) return std::min(idx, top - 1);
        double guess;
        // cbrt and two square roots are several times cheaper than pow, and
        // triangles and tetrahedra are what the reductions decode most.
        if (k == 2) guess = std::floor(0.5 + std::sqrt(2.0 * double(idx) + 0.25));
        else if (k == 3) guess = std::floor(std::cbrt(6.0 * double(idx)) + 1.0);
        else if (k == 4) guess = std::floor(std::sqrt(std::sqrt(24.0 * double(idx))) + 1.5);
        else {
            double fact = 1;
            for (index_t j = 2; j <= k; ++j) fact *= double(j);
            guess = std::floor(std::pow(double(idx) * fact, 1.0 / double(k)) + 0.5 * double(k - 1));
        }
        index_t v = std::max<index_t>(k - 1, std::min<index_t>(top - 1, static_cast<index_t>(guess)));
        while (v > k - 1 && binomial_(v, k) > idx) --v;
        while (v + 1 < top && binomial_(v + 1, k) <= idx) ++v;
        return v;
    }

    // Vertices of the dim-simplex idx, in decreasing order.
    void vertices(index_t idx, index_t dim, std::vector<index_t>& out) const {
        out.resize(dim + 1);
        index_t top = n_;
        for (index_t k = dim + 1; k > 0; --k) {
            index_t v = max_vertex(idx, k, top);
            out[dim + 1 - k] = v;
            idx -= binomial_(v, k);
            top = v;
        }
    }

    // Index of the simplex with the given vertices in decreasing order.
    index_t index(const std::vector<index_t>& verts) const {
        index_t idx = 0, k = static_cast<index_t>(verts.size());
        for (index_t v : verts) idx += binomial_(v, k--);
        return idx;
    }

    index_t edge_index(index_t i, index_t j) const {  // i != j
        if (i < j) std::swap(i, j);
        return binomial_(i, 2) + j;
    }

private:
    index_t n_;
    binomial_table binomial_;
};

}  // namespace toposcope
