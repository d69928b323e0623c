// What the engine reports: bars with their critical simplices, and optionally
// a representative cocycle for each bar.
#pragma once

#include <vector>

#include "types.hpp"

namespace toposcope {

template <class value_t>
struct bar {
    value_t birth, death;       // death is infinity for essential classes
    index_t birth_simplex;      // simplex index (dimension dim)
    index_t death_simplex;      // simplex index (dimension dim + 1), -1 when essential
};

struct cocycle {
    std::vector<index_t> simplices;             // simplex indices (dimension dim)
    std::vector<coefficient_t> coefficients;    // values in Z/p, nonzero
};

template <class value_t>
struct diagram {
    std::vector<bar<value_t>> bars;
    std::vector<cocycle> cocycles;   // parallel to bars when requested
};

struct reduction_stats {
    index_t columns = 0;         // columns reduced
    index_t apparent = 0;        // simplices skipped as apparent pairs
    index_t emergent = 0;        // columns paired without reduction
    index_t cleared = 0;         // columns removed by clearing
    index_t additions = 0;       // column additions
};

template <class value_t>
struct persistence_result {
    std::vector<diagram<value_t>> diagrams;   // one per dimension 0..maxdim
    std::vector<reduction_stats> stats;       // one per dimension
    index_t num_edges = 0;
    value_t threshold{};
    bool forward_sweep = false;               // computed by forward_h1/_h2.hpp, not by cohomology
};

}  // namespace toposcope
