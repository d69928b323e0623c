// Binomial coefficients for the combinatorial number system.
//
// The simplex {v_k > ... > v_0} has index sum_i C(v_i, i + 1). Indices of
// (maxdim + 1)-simplices reach C(n, maxdim + 2), which must fit in index_t.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "types.hpp"

namespace toposcope {

class binomial_table {
public:
    // Table of C(i, j) for i <= n and j <= k. Throws std::overflow_error when
    // C(n, k) does not fit in a signed 64-bit integer.
    binomial_table(index_t n, index_t k) : n_max_(n + 1), k_max_(k), table_((k + 1) * (n + 2), 0) {
        constexpr index_t limit = std::numeric_limits<index_t>::max();
        for (index_t i = 0; i <= n_max_; ++i) {
            at(i, 0) = 1;
            for (index_t j = 1; j <= std::min(i, k_max_); ++j) {
                index_t a = at(i - 1, j - 1), b = (j < i) ? at(i - 1, j) : 0;
                // Entries beyond the needed range may saturate; only C(<=n, <=k) is checked.
                at(i, j) = (a > limit - b) ? limit : a + b;
            }
        }
        if (n >= k && at(n, k) == limit)
            throw std::overflow_error("simplex indices overflow 64 bits: binomial(" + std::to_string(n) +
                                      ", " + std::to_string(k) +
                                      ") is too large; lower maxdim or use fewer points (or a threshold "
                                      "with fewer points)");
    }

    // Stored transposed (all n for one k together): enumerators sweep n for a fixed k.
    index_t operator()(index_t n, index_t k) const { return n < k ? 0 : table_[k * (n_max_ + 1) + n]; }

private:
    index_t& at(index_t i, index_t j) { return table_[j * (n_max_ + 1) + i]; }
    index_t n_max_, k_max_;
    std::vector<index_t> table_;
};

}  // namespace toposcope
