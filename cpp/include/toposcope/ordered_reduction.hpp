// Persistent cohomology of one dimension on a dense matrix, with coboundaries
// visited in filtration order (ordered_coboundary.hpp) instead of listed.
//
// The reduction is the same as cohomology_reducer's (clearing, emergent and
// apparent pairs, columns in reverse filtration order); what changes is the
// cost of an addition. Listing an added column's coboundary costs n entries
// per simplex of V; here an addition opens a few cursors at the current pivot
// and the reduction reads only as far as the next pivot. Short bars, the bulk
// of H1 in noisy data, then cost almost nothing.
//
// Columns are reduced on several threads with the sequential result. A
// column may add any column that has already claimed its pivot: those are
// exactly the columns the sequential reduction would add, because claims are
// made in column order. A column that meets a pivot nobody owns yet cannot
// tell whether an earlier column still being reduced will claim it, so it is
// parked until every earlier column is done ("its turn"); then it goes on as
// the sequential reduction would, from the same state. Meanwhile its thread
// takes the next column. Long columns thus overlap (the torus's two long H1
// classes), and many short ones share the threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "filtration.hpp"
#include "ordered_coboundary.hpp"
#include "pairing.hpp"
#include "parallel.hpp"
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
          want_cocycles_(want_cocycles), check_interrupt_(std::move(check_interrupt)) {}

    void set_threads(int n_threads) { n_threads_ = resolve_threads(n_threads); }

    void reduce(const std::vector<column_t>& columns, index_t dim, pivot_map& pivots, diagram<value_t>& out,
                reduction_stats& stats) {
        if (columns.size() >= (std::size_t(1) << 32))
            throw std::length_error("more than 2^32 columns in one dimension: use a threshold or fewer points");
        pivots.reserve(columns.size());  // no rehash while other threads read it
        run r(*this, columns, dim, pivots, out);
        const int threads = static_cast<int>(std::min<std::size_t>(n_threads_, std::max<std::size_t>(1, columns.size() / 64)));
        std::vector<std::unique_ptr<worker>> workers;
        for (int t = 0; t < threads; ++t) workers.push_back(std::make_unique<worker>(r, t));
        parallel_for(threads, threads, [&](index_t, int t) { workers[t]->loop(); });
        for (const auto& w : workers) {
            stats.additions += w->additions;
            stats.emergent += w->emergent;
        }
        stats.columns += static_cast<index_t>(columns.size());
    }

private:
    using state_t = ordered_coboundary<value_t>;

    // A column between steps: its cochain, its current pivot, and whether its
    // emergent candidate still waits for its turn.
    struct column_state {
        std::unique_ptr<state_t> cochain;
        std::size_t j = 0;
        entry_t sigma{}, pivot{};
        bool emergent_candidate = false;
    };

    // V's columns, appended in column order, read by other threads: blocks
    // that never move, and bounds published with each claim.
    class v_store {
    public:
        explicit v_store(std::size_t columns) : bounds_(columns + 1, 0), blocks_(new std::unique_ptr<entry_t[]>[max_blocks]) {}
        void append(const entry_t& e) {
            if ((size_ & mask) == 0) {
                if ((size_ >> shift) >= max_blocks) throw std::length_error("reduction matrix too large");
                blocks_[size_ >> shift].reset(new entry_t[block]);
            }
            blocks_[size_ >> shift][size_ & mask] = e;
            ++size_;
        }
        void close(std::size_t j) { bounds_[j + 1] = size_; }
        std::size_t begin(std::size_t j) const { return bounds_[j]; }
        std::size_t end(std::size_t j) const { return bounds_[j + 1]; }
        const entry_t& operator[](std::size_t i) const { return blocks_[i >> shift][i & mask]; }

    private:
        static constexpr std::size_t shift = 14, block = std::size_t(1) << shift, mask = block - 1,
                                     max_blocks = std::size_t(1) << 18;
        std::vector<std::size_t> bounds_;
        std::unique_ptr<std::unique_ptr<entry_t[]>[]> blocks_;
        std::size_t size_ = 0;
    };

    // What the threads share during one dimension.
    struct run {
        run(ordered_cohomology_reducer& reducer, const std::vector<column_t>& columns, index_t dim, pivot_map& pivots,
            diagram<value_t>& out)
            : self(reducer), columns(columns), dim(dim), pivots(pivots), out(out), v(columns.size()),
              parked(columns.size()) {}
        ordered_cohomology_reducer& self;
        const std::vector<column_t>& columns;
        index_t dim;
        pivot_map& pivots;
        diagram<value_t>& out;
        v_store v;
        std::atomic<std::size_t> next{0}, done{0};  // next column to start; columns claimed so far
        std::atomic<bool> failed{false};
        std::mutex turn;                          // guards parked and the advance of done
        std::vector<std::unique_ptr<column_state>> parked;
    };

    class worker {
    public:
        worker(run& r, int thread)
            : r_(r), filt_(r.self.filt_), field_(r.self.field_), thread_(thread),
              cofacets_(filt_.make_cofacets()), probe_(filt_.make_cofacets()) {}

        void loop() {
            try {
                std::size_t count = 0;
                // Columns started ahead of the last claim are bounded: each
                // parked one holds its cochain.
                const std::size_t ahead = 4096;
                while (!r_.failed.load(std::memory_order_relaxed)) {
                    const std::size_t j = r_.next.fetch_add(1);
                    if (j >= r_.columns.size()) break;
                    while (j > r_.done.load(std::memory_order_acquire) + ahead && !r_.failed.load(std::memory_order_relaxed))
                        std::this_thread::yield();
                    if (thread_ == 0 && r_.self.check_interrupt_ && (++count & 0xff) == 0) r_.self.check_interrupt_();
                    std::unique_ptr<column_state> c = fresh(j);
                    while (c) c = step(std::move(c));
                }
            } catch (...) {
                r_.failed = true;
                throw;
            }
        }

        index_t additions = 0, emergent = 0;

    private:
        std::unique_ptr<column_state> fresh(std::size_t j) {
            std::unique_ptr<column_state> c;
            if (!spare_.empty()) {
                c = std::move(spare_.back());
                spare_.pop_back();
            } else {
                c = std::make_unique<column_state>();
                c->cochain = std::make_unique<state_t>(filt_.distances(), filt_.codec(), field_, r_.self.order_, r_.dim);
            }
            c->j = j;
            c->sigma = entry_t{r_.columns[j].diameter, r_.columns[j].index, 1};
            c->emergent_candidate = false;
            const entry_t first = filt_.zero_pivot_cofacet(c->sigma, r_.dim, cofacets_);
            if (first.index != -1 && !r_.pivots.contains(first.index) && !claimed_by_apparent(c->sigma, first)) {
                c->emergent_candidate = true;  // paired at once unless an earlier column claims it
                c->pivot = first;
                return c;
            }
            start_reduction(*c);
            return c;
        }

        void start_reduction(column_state& c) {
            c.emergent_candidate = false;
            c.cochain->clear();
            c.cochain->add(c.sigma, nullptr);
            c.pivot = c.cochain->pivot();
        }

        bool my_turn(const column_state& c) const { return r_.done.load(std::memory_order_acquire) == c.j; }

        // Advances column c as far as it can go. Returns the next column this
        // thread should continue (one whose turn came when c was claimed), or
        // null.
        std::unique_ptr<column_state> step(std::unique_ptr<column_state> c) {
            if (c->emergent_candidate) {
                if (!my_turn(*c)) return park(std::move(c));
                if (!r_.pivots.contains(c->pivot.index)) {
                    ++emergent;
                    return claim(std::move(c), c->pivot, false);
                }
                start_reduction(*c);
            }
            state_t& column = *c->cochain;
            while (true) {
                entry_t& pivot = c->pivot;
                if (pivot.index == -1) {  // essential: the cocycle never dies below the threshold
                    if (!my_turn(*c)) return park(std::move(c));
                    return claim(std::move(c), entry_t{infinity<value_t>(), -1, 0}, true);
                }
                // Whether every earlier column is done, read before the lookup:
                // a turn that began after it would not have its claims seen.
                const bool turn = my_turn(*c);
                if (const pivot_owner* owner = r_.pivots.find(pivot.index)) {
                    const coefficient_t factor =
                        field_.neg(field_.mul(pivot.coefficient, field_.inverse(owner->coefficient)));
                    add_column(owner->column, factor, pivot, column);
                    ++additions;
                    pivot = column.pivot();
                    continue;
                }
                entry_t facet = filt_.zero_apparent_facet(pivot, r_.dim + 1, probe_, verts_, facet_);
                if (facet.index != -1 && facet.index != c->sigma.index) {  // owned by an apparent pair never reduced
                    // facet carries the pivot's coefficient times its sign in delta(facet).
                    facet.coefficient = field_.neg(facet.coefficient);
                    column.add(facet, &pivot);
                    ++additions;
                    pivot = column.pivot();
                    continue;
                }
                if (!turn) return park(std::move(c));  // an earlier column may still claim it
                return claim(std::move(c), pivot, true);
            }
        }

        // The sigma-side check of an emergent pair: `first`, sigma's first
        // cofacet, is taken when it is the first cofacet of its own last facet
        // (an apparent pair that is no column).
        bool claimed_by_apparent(const entry_t& sigma, const entry_t& first) {
            const index_t facet = filt_.zero_pivot_facet(first, r_.dim + 1, verts_, facet_).index;
            if (facet == -1 || facet == sigma.index) return false;
            const entry_t f{first.diameter, facet, 1};
            return filt_.zero_pivot_cofacet(f, r_.dim, probe_).index == first.index;
        }

        std::unique_ptr<column_state> park(std::unique_ptr<column_state> c) {
            std::lock_guard<std::mutex> guard(r_.turn);
            if (r_.done.load(std::memory_order_relaxed) == c->j) return c;  // its turn came meanwhile
            const std::size_t j = c->j;
            r_.parked[j] = std::move(c);
            return nullptr;
        }

        // Column c (in its turn) pairs with `pivot` (index -1: essential);
        // then the next column's turn begins.
        std::unique_ptr<column_state> claim(std::unique_ptr<column_state> c, const entry_t& pivot, bool reduced) {
            const std::size_t j = c->j;
            if (pivot.index == -1) {
                emit(c->sigma, pivot, *c->cochain, reduced);
                r_.v.close(j);
            } else {
                if (reduced && pivot.diameter > c->sigma.diameter) emit(c->sigma, pivot, *c->cochain, true);
                if (reduced)
                    c->cochain->for_each_term([&](const entry_t& e) {
                        if (e.index != c->sigma.index) r_.v.append(e);
                    });
                r_.v.close(j);  // before the pivot is published: a reader of it reads the column
                r_.pivots.insert(pivot.index, pivot_owner{static_cast<std::uint32_t>(j), pivot.coefficient});
            }
            if (spare_.size() < 4) spare_.push_back(std::move(c));
            std::lock_guard<std::mutex> guard(r_.turn);
            r_.done.store(j + 1, std::memory_order_release);
            if (j + 1 < r_.parked.size() && r_.parked[j + 1]) return std::move(r_.parked[j + 1]);
            return nullptr;
        }

        // Adds factor * (column k's cochain), whose coboundary starts at `bound`.
        void add_column(std::size_t k, coefficient_t factor, const entry_t& bound, state_t& column) {
            column.add(entry_t{r_.columns[k].diameter, r_.columns[k].index, factor}, &bound);
            for (std::size_t t = r_.v.begin(k); t < r_.v.end(k); ++t) {
                entry_t e = r_.v[t];
                e.coefficient = field_.mul(e.coefficient, factor);
                column.add(e, &bound);
            }
        }

        void emit(const entry_t& sigma, const entry_t& pivot, const state_t& column, bool reduced) {
            r_.out.bars.push_back({sigma.diameter, pivot.diameter, sigma.index, pivot.index});
            if (!r_.self.want_cocycles_) return;
            std::vector<entry_t> terms;
            if (reduced) column.for_each_term([&](const entry_t& e) { terms.push_back(e); });
            else terms.push_back(sigma);
            std::sort(terms.begin(), terms.end(), [](const entry_t& a, const entry_t& b) { return filtration_less(a, b); });
            cocycle z;
            for (const entry_t& e : terms) {
                z.simplices.push_back(e.index);
                z.coefficients.push_back(e.coefficient);
            }
            r_.out.cocycles.push_back(std::move(z));
        }

        run& r_;
        const filtration_t& filt_;
        const prime_field& field_;
        int thread_;
        typename filtration_t::cofacets_t cofacets_, probe_;
        std::vector<index_t> verts_, facet_;
        std::vector<std::unique_ptr<column_state>> spare_;
    };

    const filtration_t& filt_;
    const prime_field& field_;
    neighbor_order<value_t> order_;
    bool want_cocycles_;
    std::function<void()> check_interrupt_;
    int n_threads_ = 1;
};

}  // namespace toposcope
