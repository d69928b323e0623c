// Persistent cohomology of one dimension by column reduction, on sparse
// neighbourhoods (dense input uses ordered_reduction.hpp).
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
// A column that is added to others is usually added many times, so its reduced
// coboundary is computed once (from its pivot on) and replayed from a
// cache bounded by a memory budget; the same holds for the coboundaries of
// apparent facets.
#pragma once

#include <functional>
#include <unordered_map>
#include <vector>

#include "filtration.hpp"
#include "pivot_map.hpp"
#include "pairing.hpp"
#include "coboundary_merge.hpp"
#include "working_column.hpp"

namespace toposcope {


template <class Matrix>
class cohomology_reducer {
public:
    using filtration_t = rips_filtration<Matrix>;
    using value_t = typename filtration_t::value_t;
    using entry_t = entry<value_t>;
    using column_t = diameter_index<value_t>;

    cohomology_reducer(const filtration_t& filtration, bool want_cocycles,
                       std::function<void()> check_interrupt = {}, std::size_t cache_bytes = std::size_t(1) << 27)
        : filt_(filtration), field_(filtration.field()), cofacets_(filtration.make_cofacets()),
          probe_(filtration.make_cofacets()), want_cocycles_(want_cocycles),
          check_interrupt_(std::move(check_interrupt)), cache_budget_(cache_bytes / sizeof(entry_t)) {}

    // Reduces `columns` (dim-simplices in reverse filtration order), appends
    // bars to `out` and records every pivot in `pivots`.
    void reduce(const std::vector<column_t>& columns, index_t dim, pivot_map& pivots,
                diagram<value_t>& out, reduction_stats& stats) {
        v_bounds_.assign(1, 0);
        v_entries_.clear();
        column_cache_.clear();
        facet_cache_.clear();
        cached_ = 0;
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
                const pivot_owner* owner = pivots.find(pivot.index);
                if (owner) {
                    const coefficient_t factor =
                        field_.neg(field_.mul(pivot.coefficient, field_.inverse(owner->coefficient)));
                    add_column(columns, owner->column, factor, dim, pivot);
                    ++stats.additions;
                    pivot = coboundary_.pivot(field_);
                    continue;
                }
                entry_t facet = filt_.zero_apparent_facet(pivot, dim + 1, probe_, verts_, facet_);
                if (facet.index != -1 && facet.index != sigma.index) {  // owned by an apparent pair never reduced
                    facet.coefficient = field_.neg(facet.coefficient);
                    add_facet(facet, dim);
                    ++stats.additions;
                    pivot = coboundary_.pivot(field_);
                    continue;
                }
                if (pivot.diameter > sigma.diameter) emit(out, sigma, pivot);
                pivots.insert(pivot.index, pivot_owner{static_cast<std::uint32_t>(j), pivot.coefficient});
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
        // The first cofacet with sigma's diameter is the pivot of sigma's
        // unreduced coboundary; when no column owns it, the pair is emergent
        // and the rest of the coboundary is never enumerated.
        // (When first's apparent facet is sigma itself, the two form an apparent
        // pair, which is the same conclusion.)
        const entry_t first = cofacets_.zero_pivot_cofacet(sigma, dim);
        if (first.index != -1 && !pivots.contains(first.index)) {
            const index_t facet = filt_.zero_apparent_facet(first, dim + 1, probe_, verts_, facet_).index;
            if (facet == -1 || facet == sigma.index) {
                ++stats.emergent;
                return first;
            }
        }
        std::vector<entry_t>& stream = coboundary_.new_heap_stream();
        cofacets_.append_cofacets(sigma, dim, nullptr, filt_.threshold(), stream);
        coboundary_.add_heap_stream(field_);
        return coboundary_.pivot(field_);
    }

    // Appends simplex's cofacets that are not before `bound` to out. Everything
    // an addition brings below the pivot it cancels sums to zero (the added
    // column's own pivot is that same simplex), so it is left out.
    void append_coboundary(const entry_t& simplex, index_t dim, const entry_t& bound, std::vector<entry_t>& out) {
        cofacets_.append_cofacets(simplex, dim, &bound, filt_.threshold(), out);
    }

    bool cache_has_room(std::size_t more) const { return cached_ + more <= cache_budget_; }

    // Adds factor * (the reduced coboundary of column k), which starts at `bound`.
    void add_column(const std::vector<column_t>& columns, index_t k, coefficient_t factor, index_t dim,
                    const entry_t& bound) {
        const entry_t sigma{columns[k].diameter, columns[k].index, 1};
        reduction_.push(entry_t{sigma.diameter, sigma.index, factor});
        for (std::size_t t = v_bounds_[k]; t < v_bounds_[k + 1]; ++t) {
            entry_t e = v_entries_[t];
            e.coefficient = field_.mul(e.coefficient, factor);
            reduction_.push(e);
        }
        auto hit = column_cache_.find(k);
        if (hit == column_cache_.end()) {
            scratch_.clear();
            append_coboundary(sigma, dim, bound, scratch_);
            for (std::size_t t = v_bounds_[k]; t < v_bounds_[k + 1]; ++t) append_coboundary(v_entries_[t], dim, bound, scratch_);
            if (!cache_has_room(scratch_.size())) {  // replay once without keeping it
                std::vector<entry_t>& stream = coboundary_.new_heap_stream();
                for (const entry_t& e : scratch_) stream.push_back(entry_t{e.diameter, e.index, field_.mul(e.coefficient, factor)});
                coboundary_.add_heap_stream(field_);
                return;
            }
            cached_ += scratch_.size();
            hit = column_cache_.emplace(k, lazily_sorted<value_t>(scratch_)).first;
        }
        coboundary_.add_cached_stream(hit->second, factor, field_);
    }

    // Adds the coboundary of an apparent facet (its coefficient included): the
    // facet's column was skipped, so its coboundary is the reduced one.
    void add_facet(const entry_t& facet, index_t dim) {
        reduction_.push(facet);
        auto hit = facet_cache_.find(facet.index);
        if (hit == facet_cache_.end()) {
            scratch_.clear();
            const entry_t unit{facet.diameter, facet.index, 1};
            append_coboundary(unit, dim, entry_t{facet.diameter, std::numeric_limits<index_t>::max(), 0}, scratch_);
            if (!cache_has_room(scratch_.size())) {
                std::vector<entry_t>& stream = coboundary_.new_heap_stream();
                for (const entry_t& e : scratch_) stream.push_back(entry_t{e.diameter, e.index, field_.mul(e.coefficient, facet.coefficient)});
                coboundary_.add_heap_stream(field_);
                return;
            }
            cached_ += scratch_.size();
            hit = facet_cache_.emplace(facet.index, lazily_sorted<value_t>(scratch_)).first;
        }
        coboundary_.add_cached_stream(hit->second, facet.coefficient, field_);
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
    working_column<value_t> reduction_;
    coboundary_merge<value_t> coboundary_;
    std::vector<entry_t> scratch_;
    std::unordered_map<index_t, lazily_sorted<value_t>> column_cache_, facet_cache_;
    std::size_t cached_ = 0, cache_budget_;
    std::vector<index_t> verts_, facet_;
    std::vector<std::size_t> v_bounds_;
    std::vector<entry_t> v_entries_;
};

}  // namespace toposcope
