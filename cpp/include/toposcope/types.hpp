// Basic types shared by the whole engine.
#pragma once

#include <cstdint>
#include <limits>

// Function multiversioning: a kernel compiled for several instruction sets,
// the best chosen when the module loads (an ifunc). Wheels are built for the
// baseline ISA, so this is where AVX2 comes from; GCC on x86-64 Linux only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TOPOSCOPE_MULTIVERSIONING 1
#else
#define TOPOSCOPE_MULTIVERSIONING 0
#endif

namespace toposcope {

// A simplex is named by its index in the combinatorial number system; 64 bits
// are enough as long as binomial(n, maxdim + 2) fits (checked in binomial.hpp).
using index_t = std::int64_t;
using coefficient_t = std::uint16_t;  // elements of Z/p, p < 2^15

template <class value_t>
constexpr value_t infinity() { return std::numeric_limits<value_t>::infinity(); }

// A simplex (or a matrix entry) with its filtration value.
template <class value_t>
struct diameter_index {
    value_t diameter;
    index_t index;
};

// An edge {u, v} of a graph with its filtration value.
template <class value_t>
struct filtered_edge {
    index_t u, v;
    value_t value;
};

// A coboundary entry: simplex, filtration value and coefficient in Z/p.
template <class value_t>
struct entry {
    value_t diameter;
    index_t index;
    coefficient_t coefficient;
};

// The filtration order refined to a total order on simplices of one dimension:
// by diameter, then by *decreasing* index. Cohomology reduces columns in the
// reverse of this order, and a column's pivot is its minimal entry in it.
// Any two records with a diameter and an index compare (a cursor's head
// against a simplex, say).
template <class A, class B = A>
inline bool filtration_less(const A& a, const B& b) {
    return a.diameter < b.diameter || (a.diameter == b.diameter && a.index > b.index);
}

// filtration_less as an object, which sorts inline.
struct filtration_order {
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return filtration_less(a, b); }
};

}  // namespace toposcope
