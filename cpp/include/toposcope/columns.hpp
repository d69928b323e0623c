// Which simplices become columns of the next reduction: everything within the
// threshold, minus what clearing removes (pivots of the previous dimension,
// the spanning forest's edges for H1) and minus apparent pairs, which need no
// reduction at all. The scan for apparent pairs is the costly part and runs in
// parallel.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "filtration.hpp"
#include "h0.hpp"
#include "parallel.hpp"
#include "reduction.hpp"

namespace toposcope {

// Reverse filtration order, as an object so that the sorts inline it.
struct reverse_filtration_order {
    template <class value_t>
    bool operator()(const diameter_index<value_t>& a, const diameter_index<value_t>& b) const {
        return filtration_less(b, a);
    }
};

template <class value_t>
struct column_batch {
    std::vector<diameter_index<value_t>> columns;     // in reverse filtration order
    std::vector<diameter_index<value_t>> simplices;   // every simplex of the dimension, when kept
    index_t apparent = 0, cleared = 0;
};

// Joins the threads' batches; columns end up in reverse filtration order. Each
// part is sorted on its own thread, then the sorted runs are merged.
template <class value_t>
void merge_batches(std::vector<column_batch<value_t>>& parts, column_batch<value_t>& out, bool keep_simplices) {
    parallel_for(static_cast<index_t>(parts.size()), static_cast<int>(parts.size()), [&](index_t p, int) {
        std::sort(parts[p].columns.begin(), parts[p].columns.end(), reverse_filtration_order{});
    });
    std::size_t nc = 0, ns = 0;
    for (auto& p : parts) { nc += p.columns.size(); ns += p.simplices.size(); }
    out.columns.reserve(nc);
    if (keep_simplices) out.simplices.reserve(ns);
    for (auto& p : parts) {
        const auto middle = static_cast<std::ptrdiff_t>(out.columns.size());
        out.columns.insert(out.columns.end(), p.columns.begin(), p.columns.end());
        std::inplace_merge(out.columns.begin(), out.columns.begin() + middle, out.columns.end(),
                           reverse_filtration_order{});
        if (keep_simplices) out.simplices.insert(out.simplices.end(), p.simplices.begin(), p.simplices.end());
        out.apparent += p.apparent;
        out.cleared += p.cleared;
        std::vector<diameter_index<value_t>>().swap(p.columns);
        std::vector<diameter_index<value_t>>().swap(p.simplices);
    }
}

// Edges within the threshold that are not in the spanning forest and not the
// lower half of an apparent pair.
template <class Matrix>
column_batch<typename rips_filtration<Matrix>::value_t> assemble_edge_columns(
    const rips_filtration<Matrix>& filt, const spanning_forest<typename rips_filtration<Matrix>::value_t>& forest,
    bool keep_simplices, int n_threads, index_t& num_edges) {
    using value_t = typename rips_filtration<Matrix>::value_t;
    const Matrix& dist = filt.distances();
    const index_t n = dist.size();
    const value_t threshold = filt.threshold();
    const index_t block = 64;
    const index_t n_blocks = (n + block - 1) / block;
    n_threads = resolve_threads(n_threads);
    std::vector<column_batch<value_t>> parts(n_threads);
    std::vector<index_t> edge_counts(n_threads, 0);
    std::vector<typename rips_filtration<Matrix>::cofacets_t> enumerators;
    for (int t = 0; t < n_threads; ++t) enumerators.push_back(filt.make_cofacets());
    std::vector<std::vector<index_t>> verts(n_threads), facet(n_threads);
    auto visit = [&](index_t i, index_t j, value_t d, int t) {
        if (!(d <= threshold)) return;
        ++edge_counts[t];
        const index_t index = filt.codec().edge_index(i, j);
        if (keep_simplices) parts[t].simplices.push_back({d, index});
        if (forest.contains(i, j)) { ++parts[t].cleared; return; }
        if (filt.edge_has_apparent_cofacet(i, j, d, enumerators[t], verts[t], facet[t])) {
            ++parts[t].apparent;
            return;
        }
        parts[t].columns.push_back({d, index});
    };
    parallel_for(n_blocks, n_threads, [&](index_t b, int t) {
        for (index_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            if constexpr (Matrix::is_sparse) {
                for (auto it = dist.begin(i); it != dist.end(i); ++it)
                    if (it->vertex > i) visit(i, it->vertex, it->diameter, t);
            } else {
                const value_t* row = dist.row(i);
                for (index_t j = i + 1; j < n; ++j) visit(i, j, row[j], t);
            }
        }
    });
    num_edges = 0;
    for (index_t c : edge_counts) num_edges += c;
    column_batch<value_t> out;
    merge_batches(parts, out, keep_simplices);
    return out;
}

// Removes the columns that are pivots of the previous reduction (clearing),
// keeping the order: for columns assembled before that reduction ended.
template <class value_t>
void drop_cleared(column_batch<value_t>& batch, const pivot_map& pivots) {
    const std::size_t before = batch.columns.size();
    batch.columns.erase(std::remove_if(batch.columns.begin(), batch.columns.end(),
                                       [&](const diameter_index<value_t>& c) { return pivots.contains(c.index); }),
                        batch.columns.end());
    batch.cleared += static_cast<index_t>(before - batch.columns.size());
}

// (dim)-simplices as cofacets of the kept (dim - 1)-simplices, minus pivots of
// the previous reduction and both halves of apparent pairs. Testing the lower
// halves here, in parallel, spares the reduction millions of columns in H2
// (sphere_300: 4.0 M triangles, nearly all apparent): no sorting, no pivot-map
// entries. A reduction that meets such a pivot finds its owner again with
// zero_apparent_facet.
//
// `pivots` may be null: the calling thread first runs `beside` (the previous
// reduction, which fills them) while the others assemble, and the caller
// clears afterwards (drop_cleared). A pivot is never half of an apparent
// pair (no simplex is in two persistence pairs), so the counts are the same.
template <class Matrix, class Beside = void (*)()>
column_batch<typename rips_filtration<Matrix>::value_t> assemble_columns(
    const rips_filtration<Matrix>& filt, const std::vector<diameter_index<typename rips_filtration<Matrix>::value_t>>& faces,
    index_t dim, const pivot_map* pivots, bool keep_simplices, int n_threads, Beside&& beside = [] {}) {
    using value_t = typename rips_filtration<Matrix>::value_t;
    const index_t block = 256;
    const index_t n_blocks = (static_cast<index_t>(faces.size()) + block - 1) / block;
    n_threads = resolve_threads(n_threads);
    std::vector<column_batch<value_t>> parts(n_threads);
    std::vector<std::vector<index_t>> verts(n_threads), facet(n_threads);
    if constexpr (!Matrix::is_sparse) {
        // Dense: cofacets whose new vertex is the largest, built from the
        // face's vertices, and the apparent tests run on vertex lists.
        const auto& dist = filt.distances();
        const index_t n = dist.size();
        parallel_for_beside(beside, n_blocks, n_threads, [&](index_t b, int t) {
            const index_t end = std::min<index_t>(static_cast<index_t>(faces.size()), (b + 1) * block);
            std::vector<index_t>& fv = verts[t];
            std::vector<index_t> cv(dim + 1), scratch(dim + 2);
            std::vector<const value_t*> rows(dim);
            for (index_t f = b * block; f < end; ++f) {
                filt.codec().vertices(faces[f].index, dim - 1, fv);
                for (index_t a = 0; a < dim; ++a) { rows[a] = dist.row(fv[a]); cv[a + 1] = fv[a]; }
                for (index_t w = n - 1; w > fv[0]; --w) {
                    value_t d = faces[f].diameter;
                    for (index_t a = 0; a < dim; ++a) d = std::max(d, rows[a][w]);
                    if (!(d <= filt.threshold())) continue;
                    const index_t index = faces[f].index + filt.codec().binomial(w, dim + 1);
                    if (keep_simplices) parts[t].simplices.push_back({d, index});
                    if (pivots && pivots->contains(index)) { ++parts[t].cleared; continue; }
                    cv[0] = w;
                    if (filt.in_apparent_pair(cv.data(), dim, d, scratch.data())) { ++parts[t].apparent; continue; }
                    parts[t].columns.push_back({d, index});
                }
            }
        });
    } else {
        std::vector<typename rips_filtration<Matrix>::cofacets_t> scan, probe;
        for (int t = 0; t < n_threads; ++t) { scan.push_back(filt.make_cofacets()); probe.push_back(filt.make_cofacets()); }
        // With the face's vertices at hand, small simplices take the
        // vertex-list apparent test (no index decoding, one distance lookup
        // per pair); larger ones the index-based one.
        const bool by_vertices = dim + 2 <= rips_filtration<Matrix>::max_sparse_apparent_vertices;
        parallel_for_beside(beside, n_blocks, n_threads, [&](index_t b, int t) {
            const index_t end = std::min<index_t>(static_cast<index_t>(faces.size()), (b + 1) * block);
            constexpr index_t K = rips_filtration<Matrix>::max_sparse_apparent_vertices;
            std::vector<index_t> cv(dim + 1), cscratch(dim + 2);
            value_t table[K * K];   // the cofacet's pairwise distances: the face's once, the new vertex's from the scan
            for (index_t f = b * block; f < end; ++f) {
                scan[t].set_simplex(entry<value_t>{faces[f].diameter, faces[f].index, 1}, dim - 1);
                const std::vector<index_t>& fv = scan[t].vertices();
                std::copy(fv.begin(), fv.end(), cv.begin() + 1);
                if (by_vertices)
                    for (index_t a = 1; a <= dim; ++a)
                        for (index_t c = a + 1; c <= dim; ++c)
                            table[a * K + c] = table[c * K + a] = filt.distances()(cv[a], cv[c]);
                bool face_diameter_seen = false;   // a cofacet with the face's own diameter came before
                while (scan[t].has_next(false)) {
                    entry<value_t> c = scan[t].next();
                    // Cofacets come by decreasing new vertex, so c is the face's
                    // first cofacet of its diameter unless one came before.
                    const bool first_of_face = !face_diameter_seen;
                    face_diameter_seen = face_diameter_seen || c.diameter == faces[f].diameter;
                    if (!(c.diameter <= filt.threshold())) continue;
                    c.coefficient = 1;
                    if (keep_simplices) parts[t].simplices.push_back({c.diameter, c.index});
                    if (pivots && pivots->contains(c.index)) { ++parts[t].cleared; continue; }
                    cv[0] = scan[t].new_vertex();   // above every vertex of the face
                    if (by_vertices)
                        for (index_t a = 1; a <= dim; ++a)
                            table[a] = table[a * K] = scan[t].new_vertex_distance(std::size_t(a - 1));
                    if (by_vertices ? filt.in_apparent_pair(cv.data(), dim, c.diameter, cscratch.data(), table, &first_of_face)
                                    : (filt.zero_apparent_facet(c, dim, probe[t], verts[t], facet[t]).index != -1 ||
                                       filt.zero_apparent_cofacet(c, dim, probe[t], verts[t], facet[t]).index != -1)) {
                        ++parts[t].apparent;
                        continue;
                    }
                    parts[t].columns.push_back({c.diameter, c.index});
                }
            }
        });
    }
    column_batch<value_t> out;
    merge_batches(parts, out, keep_simplices);
    return out;
}

}  // namespace toposcope
