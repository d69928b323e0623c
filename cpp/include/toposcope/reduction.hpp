// Persistent cohomology of one dimension by column reduction.
//
// Columns are the dim-simplices that survive clearing, taken in reverse
// filtration order. A column's coboundary is enumerated, never stored; only
// the reduction matrix V is kept (for columns that later columns add). Three
// shortcuts avoid most of the work:
//   - emergent pairs: the first cofacet of sigma with sigma's diameter, when no
//     column owns it yet, is sigma's pivot straight away;
//   - apparent pairs: a pivot tau whose apparent facet was never reduced is
//     cancelled by adding that facet's coboundary;
//   - clearing: pivots found here are removed from the next dimension's columns
//     (done by the caller with the returned pivot map).
#pragma once

#include <functional>
#include <unordered_map>
#include <vector>

#include "filtration.hpp"
#include "pairing.hpp"
#include "working_column.hpp"

namespace toposcope {

struct pivot_owner {
    index_t column;              // position in the column list
    coefficient_t coefficient;   // coefficient of the pivot in that reduced column
};
using pivot_map = std::unordered_map<index_t, pivot_owner>;

template <class Matrix>
class cohomology_reducer {
public:
    using filtration_t = rips_filtration<Matrix>;
    using value_t = typename filtration_t::value_t;
    using entry_t = entry<value_t>;
    using column_t = diameter_index<value_t>;

    cohomology_reducer(const filtration_t& filtration, bool want_cocycles,
                       std::function<void()> check_interrupt = {})
        : filt_(filtration), field_(filtration.field()), cofacets_(filtration.make_cofacets()),
          probe_(filtration.make_cofacets()), want_cocycles_(want_cocycles),
          check_interrupt_(std::move(check_interrupt)) {}

    // Reduces `columns` (dim-simplices in reverse filtration order), appends
    // bars to `out` and records every pivot in `pivots`.
    void reduce(const std::vector<column_t>& columns, index_t dim, pivot_map& pivots,
                diagram<value_t>& out, reduction_stats& stats) {
        v_bounds_.assign(1, 0);
        v_entries_.clear();
        pivots.reserve(columns.size());
        for (std::size_t j = 0; j < columns.size(); ++j) {
            if (check_interrupt_ && (j & 0xfff) == 0) check_interrupt_();
            const entry_t sigma{columns[j].diameter, columns[j].index, 1};
            reduction_.clear();
            coboundary_.clear();
            reduction_.push(sigma);
            entry_t pivot = init_coboundary_and_get_pivot(sigma, dim, pivots, stats);
            while (true) {
                if (pivot.index == -1) {  // essential: the cocycle never dies below the threshold
                    emit(out, sigma, entry_t{infinity<value_t>(), -1, 0});
                    break;
                }
                auto owner = pivots.find(pivot.index);
                if (owner != pivots.end()) {
                    const coefficient_t factor =
                        field_.neg(field_.mul(pivot.coefficient, field_.inverse(owner->second.coefficient)));
                    add_column(columns, owner->second.column, factor, dim);
                    ++stats.additions;
                    pivot = coboundary_.pivot(field_);
                    continue;
                }
                entry_t facet = filt_.zero_apparent_facet(pivot, dim + 1, probe_, verts_, facet_);
                if (facet.index != -1) {  // pivot is owned by an apparent pair that was skipped
                    facet.coefficient = field_.neg(facet.coefficient);
                    add_simplex(facet, dim);
                    ++stats.additions;
                    pivot = coboundary_.pivot(field_);
                    continue;
                }
                if (pivot.diameter > sigma.diameter) emit(out, sigma, pivot);
                pivots.emplace(pivot.index, pivot_owner{static_cast<index_t>(j), pivot.coefficient});
                store_reduction_column();
                break;
            }
            v_bounds_.push_back(v_entries_.size());
        }
        stats.columns += static_cast<index_t>(columns.size());
    }

private:
    entry_t init_coboundary_and_get_pivot(const entry_t& sigma, index_t dim, const pivot_map& pivots,
                                          reduction_stats& stats) {
        bool check_emergent = true;
        scratch_.clear();
        cofacets_.set_simplex(sigma, dim);
        while (cofacets_.has_next()) {
            entry_t c = cofacets_.next();
            if (c.diameter > filt_.threshold()) continue;
            scratch_.push_back(c);
            if (check_emergent && c.diameter == sigma.diameter) {
                if (pivots.find(c.index) == pivots.end() &&
                    filt_.zero_apparent_facet(c, dim + 1, probe_, verts_, facet_).index == -1) {
                    ++stats.emergent;
                    return c;
                }
                check_emergent = false;
            }
        }
        for (const entry_t& c : scratch_) coboundary_.push(c);
        return coboundary_.pivot(field_);
    }

    void add_simplex(const entry_t& simplex, index_t dim) {
        reduction_.push(simplex);
        cofacets_.set_simplex(simplex, dim);
        while (cofacets_.has_next()) {
            entry_t c = cofacets_.next();
            if (c.diameter <= filt_.threshold()) coboundary_.push(c);
        }
    }

    void add_column(const std::vector<column_t>& columns, index_t k, coefficient_t factor, index_t dim) {
        add_simplex(entry_t{columns[k].diameter, columns[k].index, factor}, dim);
        for (std::size_t t = v_bounds_[k]; t < v_bounds_[k + 1]; ++t) {
            entry_t e = v_entries_[t];
            e.coefficient = field_.mul(e.coefficient, factor);
            add_simplex(e, dim);
        }
    }

    // Keeps V's column without its diagonal entry (the column's own simplex).
    void store_reduction_column() {
        reduction_.pop_pivot(field_);
        for (entry_t e = reduction_.pop_pivot(field_); e.index != -1; e = reduction_.pop_pivot(field_))
            v_entries_.push_back(e);
    }

    void emit(diagram<value_t>& out, const entry_t& sigma, const entry_t& pivot) {
        out.bars.push_back({sigma.diameter, pivot.diameter, sigma.index, pivot.index});
        if (!want_cocycles_) return;
        cocycle z;
        working_column<value_t> copy = reduction_;
        for (entry_t e = copy.pop_pivot(field_); e.index != -1; e = copy.pop_pivot(field_)) {
            z.simplices.push_back(e.index);
            z.coefficients.push_back(e.coefficient);
        }
        out.cocycles.push_back(std::move(z));
    }

    const filtration_t& filt_;
    const prime_field& field_;
    typename filtration_t::cofacets_t cofacets_, probe_;
    bool want_cocycles_;
    std::function<void()> check_interrupt_;
    working_column<value_t> reduction_, coboundary_;
    std::vector<entry_t> scratch_;
    std::vector<index_t> verts_, facet_;
    std::vector<std::size_t> v_bounds_;
    std::vector<entry_t> v_entries_;
};

}  // namespace toposcope
