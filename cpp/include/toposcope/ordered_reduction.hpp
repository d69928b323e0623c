// Persistent cohomology of one dimension on a dense matrix, with coboundaries
// visited in filtration order (ordered_coboundary.hpp) instead of listed.
//
// The reduction is the same as cohomology_reducer's (clearing, emergent and
// apparent pairs, columns in reverse filtration order); what changes is the
// cost of an addition. Listing an added column's coboundary costs n entries
// per simplex of V; here an addition opens a few cursors at the current pivot
// and the reduction reads only as far as the next pivot. Short bars, the bulk
// of H1 in noisy data, then cost almost nothing.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "filtration.hpp"
#include "ordered_coboundary.hpp"
#include "pairing.hpp"
#include "pivot_map.hpp"

namespace toposcope {

template <class value_t>
class ordered_cohomology_reducer {
public:
    using matrix_t = dense_distance_matrix<value_t>;
    using filtration_t = rips_filtration<matrix_t>;
    using entry_t = entry<value_t>;
    using column_t = diameter_index<value_t>;

    // Neighbour lists are kept across dimensions: H2 reads the ones H1 sorted.
    ordered_cohomology_reducer(const filtration_t& filtration, bool want_cocycles,
                               std::function<void()> check_interrupt = {})
        : filt_(filtration), field_(filtration.field()), order_(filtration.distances(), filtration.threshold()),
          cofacets_(filtration.make_cofacets()),
          probe_(filtration.make_cofacets()), want_cocycles_(want_cocycles),
          check_interrupt_(std::move(check_interrupt)) {}

    void reduce(const std::vector<column_t>& columns, index_t dim, pivot_map& pivots, diagram<value_t>& out,
                reduction_stats& stats) {
        ordered_coboundary<value_t> column(filt_.distances(), filt_.codec(), field_, order_, dim);
        v_bounds_.assign(1, 0);
        v_entries_.clear();
        pivots.reserve(columns.size());
        // Each column's first cofacet is found one column ahead and its slot in
        // the pivot map prefetched: with millions of pivots (H2) every lookup
        // is a cache miss, now overlapped with the previous column's work.
        entry_t next_first = columns.empty() ? entry_t{} : first_cofacet(columns[0], dim, pivots);
        for (std::size_t j = 0; j < columns.size(); ++j) {
            if (check_interrupt_ && (j & 0xfff) == 0) check_interrupt_();
            const entry_t sigma{columns[j].diameter, columns[j].index, 1};
            const entry_t candidate = next_first;
            if (j + 1 < columns.size()) next_first = first_cofacet(columns[j + 1], dim, pivots);
            const entry_t first = emergent_pivot(sigma, candidate, dim, pivots);
            if (first.index != -1) {
                ++stats.emergent;
                pivots.insert(first.index, pivot_owner{static_cast<std::uint32_t>(j), first.coefficient});
                v_bounds_.push_back(v_entries_.size());
                continue;
            }
            column.clear();
            column.add(sigma, nullptr);
            entry_t pivot = column.pivot();
            while (true) {
                if (pivot.index == -1) {  // essential: the cocycle never dies below the threshold
                    emit(out, sigma, entry_t{infinity<value_t>(), -1, 0}, column);
                    break;
                }
                if (const pivot_owner* owner = pivots.find(pivot.index)) {
                    const coefficient_t factor =
                        field_.neg(field_.mul(pivot.coefficient, field_.inverse(owner->coefficient)));
                    add_column(columns, owner->column, factor, pivot, column);
                    ++stats.additions;
                    pivot = column.pivot();
                    continue;
                }
                entry_t facet = filt_.zero_apparent_facet(pivot, dim + 1, probe_, verts_, facet_);
                if (facet.index != -1 && facet.index != sigma.index) {  // owned by an apparent pair never reduced
                    // facet carries the pivot's coefficient times its sign in delta(facet).
                    facet.coefficient = field_.neg(facet.coefficient);
                    column.add(facet, &pivot);
                    ++stats.additions;
                    pivot = column.pivot();
                    continue;
                }
                if (pivot.diameter > sigma.diameter) emit(out, sigma, pivot, column);
                pivots.insert(pivot.index, pivot_owner{static_cast<std::uint32_t>(j), pivot.coefficient});
                column.for_each_term([&](const entry_t& e) {
                    if (e.index != sigma.index) v_entries_.push_back(e);
                });
                break;
            }
            v_bounds_.push_back(v_entries_.size());
        }
        stats.columns += static_cast<index_t>(columns.size());
    }

private:
    // The first cofacet of column c with its diameter (index -1 if none), its
    // pivot-map slot prefetched.
    entry_t first_cofacet(const column_t& c, index_t dim, const pivot_map& pivots) {
        const entry_t first = filt_.zero_pivot_cofacet(entry_t{c.diameter, c.index, 1}, dim, cofacets_);
        if (first.index != -1) pivots.prefetch(first.index);
        return first;
    }

    // sigma's first cofacet with its diameter (`first`), when no column owns it
    // and no apparent pair claims it: then it is sigma's pivot at once.
    entry_t emergent_pivot(const entry_t& sigma, const entry_t& first, index_t dim, const pivot_map& pivots) {
        if (first.index == -1 || pivots.contains(first.index)) return entry_t{sigma.diameter, -1, 0};
        // Usually sigma itself is first's last facet of equal diameter: then
        // (sigma, first) is apparent and the scan for that facet's first
        // cofacet, which would find `first` again, is skipped.
        const index_t facet = filt_.zero_pivot_facet(first, dim + 1, verts_, facet_).index;
        if (facet == -1 || facet == sigma.index) return first;
        const entry_t f{first.diameter, facet, 1};
        if (filt_.zero_pivot_cofacet(f, dim, probe_).index != first.index) return first;  // not apparent
        return entry_t{sigma.diameter, -1, 0};
    }

    // Adds factor * (column k's cochain), whose coboundary starts at `bound`.
    void add_column(const std::vector<column_t>& columns, index_t k, coefficient_t factor, const entry_t& bound,
                    ordered_coboundary<value_t>& column) {
        column.add(entry_t{columns[k].diameter, columns[k].index, factor}, &bound);
        for (std::size_t t = v_bounds_[k]; t < v_bounds_[k + 1]; ++t) {
            entry_t e = v_entries_[t];
            e.coefficient = field_.mul(e.coefficient, factor);
            column.add(e, &bound);
        }
    }

    void emit(diagram<value_t>& out, const entry_t& sigma, const entry_t& pivot, const ordered_coboundary<value_t>& column) {
        out.bars.push_back({sigma.diameter, pivot.diameter, sigma.index, pivot.index});
        if (!want_cocycles_) return;
        std::vector<entry_t> terms;
        column.for_each_term([&](const entry_t& e) { terms.push_back(e); });
        std::sort(terms.begin(), terms.end(), [](const entry_t& a, const entry_t& b) { return filtration_less(a, b); });
        cocycle z;
        for (const entry_t& e : terms) {
            z.simplices.push_back(e.index);
            z.coefficients.push_back(e.coefficient);
        }
        out.cocycles.push_back(std::move(z));
    }

    const filtration_t& filt_;
    const prime_field& field_;
    neighbor_order<value_t> order_;
    typename filtration_t::cofacets_t cofacets_, probe_;
    bool want_cocycles_;
    std::function<void()> check_interrupt_;
    std::vector<index_t> verts_, facet_;
    std::vector<std::size_t> v_bounds_;
    std::vector<entry_t> v_entries_;
};

}  // namespace toposcope
