// Vietoris-Rips persistence: H0 by a spanning forest, then one cohomology
// reduction per dimension with clearing between dimensions.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <type_traits>
#include <vector>

#include "columns.hpp"
#include "edge_collapse.hpp"
#include "forward_h1.hpp"
#include "forward_h2.hpp"
#include "h0.hpp"
#include "ordered_reduction.hpp"
#include "points.hpp"
#include "reduction.hpp"

namespace toposcope {

struct rips_options {
    index_t max_dim = 1;
    long modulus = 2;
    bool cocycles = false;
    int n_threads = 0;                      // 0: all hardware threads
    bool collapse = false;                  // edge-collapse the graph first (see edge_collapse.hpp)
    double dense_above = 0.3;               // after a collapse, edges kept (fraction of all pairs) from
                                            // which the dense engine computes the rest
    index_t forward_max_edges = 0;          // H1 or H1-H2 over Z/2 of a dense matrix with at most this
                                            // many edges run a forward sweep (forward_h1/_h2.hpp); 0: never
    std::function<void()> check_interrupt;  // may throw to abort
};

// Whether H1 or H1-H2 run a forward sweep (forward_h1.hpp, forward_h2.hpp)
// rather than cohomology: over Z/2, without cocycles, on a graph (dense or
// sparse: scipy.sparse input, approximate filtrations) with at most
// opt.forward_max_edges edges up to the threshold. It then also takes the
// place of the edge collapse and of sparse neighbourhoods, which it beats
// 2-60x on every H2 input measured (benchmarks/NOTES.md, fifth session).
// The sweeps also keep bit rows per vertex (three for H1, 3n^2/8 bytes; two
// for H2) and, for H2, an n x n array of edge ranks: n is capped at 16,384
// for H1 and 4,096 for H2.
// eligible() is everything but the edge count, which takes a pass to know.
inline bool forward_sweep_eligible(const rips_options& opt, index_t n) {
    return opt.max_dim >= 1 && opt.max_dim <= 2 && opt.modulus == 2 && !opt.cocycles && opt.forward_max_edges > 0 &&
           n <= (opt.max_dim == 1 ? 16384 : 4096);
}
inline bool forward_sweep_applies(const rips_options& opt, index_t edges, index_t n) {
    return forward_sweep_eligible(opt, n) && edges <= opt.forward_max_edges;
}

// Edges up to the threshold.
template <class Matrix, class value_t>
index_t count_edges(const Matrix& dist, value_t threshold, int n_threads = 1) {
    const index_t n = dist.size(), block = 256;
    const int threads = resolve_threads(n_threads);
    std::vector<index_t> edges(threads, 0);
    parallel_for((n + block - 1) / block, threads, [&](index_t b, int t) {
        index_t in_block = 0;   // summed here: the threads' totals share a cache line
        for (index_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            if constexpr (Matrix::is_sparse) {
                for (auto it = dist.begin(i); it != dist.end(i); ++it)
                    in_block += it->vertex > i && it->diameter <= threshold;
            } else {
                const value_t* row = dist.row(i);
                for (index_t j = i + 1; j < n; ++j) in_block += row[j] <= threshold;
            }
        }
        edges[t] += in_block;
    });
    return std::accumulate(edges.begin(), edges.end(), index_t(0));
}

template <class Matrix>
using result_for = persistence_result<typename rips_filtration<Matrix>::value_t>;

// known_edges: the edges up to the threshold when the caller has counted
// them already (a pass over the matrix saved), or -1.
template <class Matrix>
result_for<Matrix> compute_persistence(const Matrix& dist, typename rips_filtration<Matrix>::value_t threshold,
                                       const rips_options& opt, index_t known_edges = -1);

// Collapses a graph given by its edges, then computes on the smaller graph.
// Diagrams are identical; critical simplices then belong to the collapsed
// filtration, and num_edges counts the edges before the collapse. When the
// collapse gives up, `uncollapsed(edges, opt)` computes on the input graph
// (its edges handed back, for callers that hold no other copy).
template <class value_t, class Uncollapsed>
persistence_result<value_t> compute_collapsed_persistence(index_t n, std::vector<filtered_edge<value_t>> edges,
                                                          const std::vector<value_t>& births, value_t threshold,
                                                          rips_options opt, Uncollapsed&& uncollapsed) {
    const index_t before = static_cast<index_t>(edges.size());
    edge_collapser<value_t> collapser(n, std::move(edges), opt.n_threads);
    edges = collapser.run();
    opt.collapse = false;
    if (collapser.abandoned()) return uncollapsed(collapser.release_edges(), opt);
    auto finish = [&](const auto& collapsed) {
        auto result = compute_persistence(collapsed, threshold, opt);
        result.num_edges = before;
        return result;
    };
    // A collapse that leaves a dense graph (points on a sphere lose few edges)
    // is computed by the dense engine, which is several times faster there
    // than neighbour-list intersection; removed edges lie beyond the threshold.
    const double complete = 0.5 * double(n) * double(n - 1);
    if (std::isfinite(double(threshold)) && double(edges.size()) >= opt.dense_above * complete) {
        square_buffer<value_t> square(std::size_t(n) * std::size_t(n), std::numeric_limits<value_t>::infinity());
        for (index_t i = 0; i < n; ++i) square[std::size_t(i) * n + i] = 0;
        for (const auto& e : edges) square[std::size_t(e.u) * n + e.v] = square[std::size_t(e.v) * n + e.u] = e.value;
        edges = {};
        return finish(dense_distance_matrix<value_t>(std::move(square), n, births));
    }
    sparse_distance_matrix<value_t> collapsed(n, edges, births);
    edges = {};
    return finish(collapsed);
}

// The same for a distance matrix: its edges up to the threshold.
template <class Matrix>
result_for<Matrix> compute_collapsed_persistence(const Matrix& dist, typename rips_filtration<Matrix>::value_t threshold,
                                                 const rips_options& opt) {
    using value_t = typename rips_filtration<Matrix>::value_t;
    const index_t n = dist.size();
    std::vector<filtered_edge<value_t>> edges;
    for (index_t i = 0; i < n; ++i) {
        if constexpr (Matrix::is_sparse) {
            for (auto it = dist.begin(i); it != dist.end(i); ++it)
                if (it->vertex > i && it->diameter <= threshold) edges.push_back({i, it->vertex, it->diameter});
        } else {
            const value_t* row = dist.row(i);
            for (index_t j = i + 1; j < n; ++j)
                if (row[j] <= threshold) edges.push_back({i, j, row[j]});
        }
    }
    std::vector<value_t> births;
    if (dist.has_births()) {
        births.resize(n);
        for (index_t i = 0; i < n; ++i) births[i] = dist.vertex_birth(i);
    }
    return compute_collapsed_persistence(n, std::move(edges), births, threshold, opt,
                                         [&](std::vector<filtered_edge<value_t>>&& all, const rips_options& o) {
                                             all = {};
                                             return compute_persistence(dist, threshold, o);
                                         });
}

// Persistence of a graph held only as its edges (a point cloud's pairs within
// the threshold): the edge list goes to the collapse, or becomes neighbour
// lists, and is then freed, so that no two copies of the graph coexist.
template <class value_t>
persistence_result<value_t> compute_graph_persistence(index_t n, std::vector<filtered_edge<value_t>> edges,
                                                      value_t threshold, const rips_options& opt) {
    auto on_lists = [&](std::vector<filtered_edge<value_t>>&& all, const rips_options& o) {
        sparse_distance_matrix<value_t> dist(n, all);
        all = {};
        return compute_persistence(dist, threshold, o);
    };
    if (opt.collapse && !forward_sweep_applies(opt, static_cast<index_t>(edges.size()), n))
        return compute_collapsed_persistence(n, std::move(edges), std::vector<value_t>{}, threshold, opt, on_lists);
    return on_lists(std::move(edges), opt);
}

// H0-H1 or H0-H2 by a forward sweep (forward_sweep_applies).
template <class Matrix>
result_for<Matrix> compute_forward_persistence(const Matrix& dist, typename rips_filtration<Matrix>::value_t threshold,
                                               const rips_options& opt) {
    using value_t = typename rips_filtration<Matrix>::value_t;
    const simplex_codec codec(dist.size(), opt.max_dim + 1);
    persistence_result<value_t> result;
    result.threshold = threshold;
    result.diagrams.resize(opt.max_dim + 1);
    result.stats.resize(opt.max_dim + 1);
    const int threads = resolve_threads(opt.n_threads);
    spanning_forest<value_t> forest;
    if (opt.max_dim == 1) {
        forward_h1<value_t> sweep(dist, threshold, codec, threads, opt.check_interrupt);
        forest = sweep.run(result.diagrams[1], result.stats[1]);
        result.num_edges = sweep.num_edges();
    } else {
        forward_h2<value_t> sweep(dist, threshold, codec, threads, opt.check_interrupt);
        forest = sweep.run(result.diagrams[1], result.diagrams[2], result.stats[1], result.stats[2]);
        result.num_edges = sweep.num_edges();
    }
    // Bars in the cohomology engine's order (its columns': birth simplices
    // in reverse filtration order), so that callers see one order.
    for (index_t d = 1; d <= opt.max_dim; ++d)
        std::sort(result.diagrams[d].bars.begin(), result.diagrams[d].bars.end(),
                  [](const bar<value_t>& a, const bar<value_t>& b) {
                      return a.birth > b.birth || (a.birth == b.birth && a.birth_simplex < b.birth_simplex);
                  });
    zero_dim_pairs(dist, forest, codec, result.diagrams[0]);
    result.stats[0].columns = dist.size();
    result.forward_sweep = true;
    return result;
}

template <class Matrix>
result_for<Matrix> compute_persistence(const Matrix& dist, typename rips_filtration<Matrix>::value_t threshold,
                                       const rips_options& opt, index_t known_edges) {
    using value_t = typename rips_filtration<Matrix>::value_t;
    const auto edges = [&] { return known_edges >= 0 ? known_edges : count_edges(dist, threshold, opt.n_threads); };
    // Long-lived classes cost cohomology many additions and the forward
    // sweeps little; where a sweep applies it also replaces the collapse.
    if (forward_sweep_eligible(opt, dist.size()) && edges() <= opt.forward_max_edges)
        return compute_forward_persistence(dist, threshold, opt);
    if (opt.collapse) return compute_collapsed_persistence(dist, threshold, opt);
    const prime_field field(opt.modulus);
    rips_filtration<Matrix> filt(dist, opt.max_dim, threshold, field);
    persistence_result<value_t> result;
    result.threshold = threshold;
    result.diagrams.resize(opt.max_dim + 1);
    result.stats.resize(opt.max_dim + 1);

    {
        auto forest = minimum_spanning_forest(dist, threshold, filt.codec(), opt.n_threads);
        zero_dim_pairs(dist, forest, filt.codec(), result.diagrams[0]);
        result.stats[0].columns = dist.size();
        if (opt.max_dim == 0) {
            result.num_edges = edges();
            return result;
        }
        std::unique_ptr<nearest_neighbors<value_t>> nearest;
        if constexpr (!Matrix::is_sparse) {
            nearest = std::make_unique<nearest_neighbors<value_t>>(dist, 32, opt.n_threads);
            filt.use_nearest(nearest.get());
        }
        auto batch = assemble_edge_columns(filt, forest, opt.max_dim >= 2, opt.n_threads, result.num_edges);
        result.stats[1].apparent = batch.apparent;
        result.stats[1].cleared = batch.cleared;
        std::vector<diameter_index<value_t>> columns = std::move(batch.columns);
        std::vector<diameter_index<value_t>> simplices = std::move(batch.simplices);

        // Dense input visits coboundaries in filtration order (ordered_reduction.hpp);
        // sparse neighbourhoods merge cached cofacet streams (reduction.hpp).
        std::conditional_t<Matrix::is_sparse, cohomology_reducer<Matrix>, ordered_cohomology_reducer<value_t>>
            reducer(filt, opt.cocycles, opt.check_interrupt);
        if constexpr (!Matrix::is_sparse) reducer.set_threads(opt.n_threads);
        for (index_t dim = 1; dim <= opt.max_dim; ++dim) {
            pivot_map pivots;
            auto reduce = [&] { reducer.reduce(columns, dim, pivots, result.diagrams[dim], result.stats[dim]); };
            if (dim == opt.max_dim) {
                reduce();
                break;
            }
            column_batch<value_t> next;
            if constexpr (Matrix::is_sparse) {
                // This reduction runs on one thread: the other threads
                // assemble the next dimension's columns beside it (all but the
                // clearing, which needs its pivots), then the caller joins them.
                next = assemble_columns(filt, simplices, dim + 1, nullptr, dim + 1 < opt.max_dim, opt.n_threads, reduce);
                drop_cleared(next, pivots);
                std::vector<diameter_index<value_t>>().swap(columns);
            } else {
                reduce();
                std::vector<diameter_index<value_t>>().swap(columns);
                next = assemble_columns(filt, simplices, dim + 1, &pivots, dim + 1 < opt.max_dim, opt.n_threads);
            }
            result.stats[dim + 1].apparent = next.apparent;
            result.stats[dim + 1].cleared = next.cleared;
            columns = std::move(next.columns);
            simplices = std::move(next.simplices);
        }
    }
    return result;
}

}  // namespace toposcope
