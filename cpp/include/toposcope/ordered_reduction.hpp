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
// column that meets a pivot nobody owns yet may claim it only when no earlier
// unfinished column can: each such column publishes a lower bound on its
// pivot (its current pivot, which only grows), and the claim needs the pivot
// to lie before all of them. So every owner a column meets is an earlier
// column, the one the sequential reduction would add (a later column's claim
// lies before this column's bound, where its walk never goes). Otherwise the column is
// parked and its thread takes another. Claims, parking and waking happen
// under one lock; a woken column goes on from the same state. So a long
// column (the torus's long H1 classes) does not hold the others back: the
// columns after it claim their pivots below its current one, and a second
// long column runs beside it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
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
        pivots.reserve(columns.size());  // no rehash while other threads read it; throws above 2^32 columns
        run r(*this, columns, dim, pivots);
        const int threads = static_cast<int>(std::min<std::size_t>(n_threads_, std::max<std::size_t>(1, columns.size() / 64)));
        std::vector<std::unique_ptr<worker>> workers;
        for (int t = 0; t < threads; ++t) workers.push_back(std::make_unique<worker>(r, t));
        parallel_for(threads, threads, [&](index_t, int t) { workers[t]->loop(); });
        if (r.error) std::rethrow_exception(r.error);
        for (const auto& w : workers) {
            stats.additions += w->additions;
            stats.emergent += w->emergent;
        }
        stats.columns += static_cast<index_t>(columns.size());
        // Claims came in any order; the output is in column order, as the
        // sequential reduction writes it.
        std::sort(r.records.begin(), r.records.end(), [](const claim_record& a, const claim_record& b) { return a.j < b.j; });
        for (claim_record& rec : r.records) {
            out.bars.push_back(rec.b);
            if (want_cocycles_) out.cocycles.push_back(std::move(rec.z));
        }
    }

private:
    using state_t = ordered_coboundary<value_t>;

    // A column between steps: its cochain, its current pivot, and whether its
    // emergent candidate is still to be claimed.
    struct column_state {
        std::unique_ptr<state_t> cochain;
        std::size_t j = 0;
        entry_t sigma{}, pivot{};
        bool emergent_candidate = false;
        int since_published = 0;  // additions since its bound was last published
    };

    // V's columns, appended as they are claimed (under the lock), read by
    // other threads: blocks that never move; a column's range is written
    // before its pivot is published.
    class v_store {
    public:
        explicit v_store(std::size_t columns)
            : begin_(columns, 0), end_(columns, 0), blocks_(new std::unique_ptr<entry_t[]>[max_blocks]) {}
        void append(const entry_t& e) {
            if ((size_ & mask) == 0) {
                if ((size_ >> shift) >= max_blocks) throw std::length_error("reduction matrix too large");
                blocks_[size_ >> shift].reset(new entry_t[block]);
            }
            blocks_[size_ >> shift][size_ & mask] = e;
            ++size_;
        }
        void open(std::size_t j) { begin_[j] = size_; }
        void close(std::size_t j) { end_[j] = size_; }
        std::size_t begin(std::size_t j) const { return begin_[j]; }
        std::size_t end(std::size_t j) const { return end_[j]; }
        const entry_t& operator[](std::size_t i) const { return blocks_[i >> shift][i & mask]; }

    private:
        static constexpr std::size_t shift = 14, block = std::size_t(1) << shift, mask = block - 1,
                                     max_blocks = std::size_t(1) << 18;
        std::vector<std::size_t> begin_, end_;
        std::unique_ptr<std::unique_ptr<entry_t[]>[]> blocks_;
        std::size_t size_ = 0;
    };

    // A claimed column's output, put in column order at the end.
    struct claim_record {
        std::size_t j;
        bar<value_t> b;
        cocycle z;
    };

    // What the threads share during one dimension. Everything but the pivot
    // table's lookups, V's claimed columns and `failed` is guarded by `lock`.
    // Started, unclaimed columns lie in [done, next), never more than `ahead`
    // + 1 of them: their state is kept in a ring of window slots.
    struct run {
        static constexpr std::size_t ahead = 4096, window = 8192;  // window > ahead + 1, a power of 2
        run(ordered_cohomology_reducer& reducer, const std::vector<column_t>& columns, index_t dim, pivot_map& pivots)
            : self(reducer), columns(columns), dim(dim), pivots(pivots), v(columns.size()),
              slots(std::min(window, columns.size() + 1)) {}
        struct slot {
            char claimed = 0;
            entry_t bound{};                        // a lower bound on the column's pivot
            std::unique_ptr<column_state> parked;
        };
        slot& at(std::size_t j) { return slots[j % slots.size()]; }
        // Starts column j (the next one): before any work its pivot is at
        // least the earliest simplex of its own diameter.
        void start(std::size_t j) {
            slot& s = at(j);
            s.claimed = 0;
            s.bound = entry_t{columns[j].diameter, std::numeric_limits<index_t>::max(), 0};
            s.parked.reset();
        }
        ordered_cohomology_reducer& self;
        const std::vector<column_t>& columns;
        index_t dim;
        pivot_map& pivots;
        v_store v;
        std::atomic<bool> failed{false};
        std::exception_ptr error;             // the first error of any thread
        std::mutex lock;
        std::size_t next = 0, done = 0;     // next column to start; all before `done` are claimed
        std::vector<slot> slots;
        std::vector<std::unique_ptr<column_state>> ready;  // parked columns whose pivot got an owner
        std::vector<index_t> new_claims;    // pivots claimed since wake() last went over the parked columns
        std::condition_variable work;       // ready columns, or columns claimed: idle threads look again
        std::vector<claim_record> records;
    };

    class worker {
    public:
        worker(run& r, int thread)
            : r_(r), filt_(r.self.filt_), field_(r.self.field_), thread_(thread),
              cofacets_(filt_.make_cofacets()), probe_(filt_.make_cofacets()) {}

        void loop() {
            try {
                std::size_t count = 0;
                // Columns started ahead of the first unclaimed one are
                // bounded (each parked one holds its cochain).
                const std::size_t m = r_.columns.size();
                while (!r_.failed.load(std::memory_order_relaxed)) {
                    std::unique_ptr<column_state> c;
                    std::size_t j = m;
                    bool idle = false;
                    {
                        std::unique_lock<std::mutex> guard(r_.lock);
                        c = take_ready();
                        if (c) {
                            // a woken column goes first
                        } else if (r_.next < m && r_.next <= r_.done + run::ahead) {
                            j = r_.next++;
                            r_.start(j);
                        } else if (r_.done == m) {
                            break;
                        } else {
                            // Nothing to do until another thread claims or wakes
                            // something; the timeout keeps Ctrl-C answered.
                            r_.work.wait_for(guard, std::chrono::milliseconds(1));
                            idle = true;
                        }
                    }
                    if (idle) {
                        if (thread_ == 0 && r_.self.check_interrupt_) r_.self.check_interrupt_();
                        continue;
                    }
                    if (thread_ == 0 && r_.self.check_interrupt_ && (++count & 0xff) == 0) r_.self.check_interrupt_();
                    if (!c) c = fresh(j);
                    while (c) c = step(std::move(c));
                }
            } catch (...) {
                // The first error is the one reported; the other threads see
                // `failed` and stop, even inside a long column.
                {
                    std::lock_guard<std::mutex> guard(r_.lock);
                    if (!r_.error) r_.error = std::current_exception();
                }
                r_.failed = true;
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
            c->since_published = 0;
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

        // Advances column c as far as it can go; returns a column this thread
        // should go on with (woken meanwhile), or null.
        std::unique_ptr<column_state> step(std::unique_ptr<column_state> c) {
            if (c->emergent_candidate) {
                std::unique_lock<std::mutex> guard(r_.lock);
                if (!r_.pivots.contains(c->pivot.index)) {
                    if (can_claim(c->j, c->pivot)) {
                        ++emergent;
                        claim(std::move(c));
                    } else {
                        park(std::move(c));
                    }
                    wake();
                    return take_ready();
                }
                guard.unlock();
                start_reduction(*c);
            }
            state_t& column = *c->cochain;
            entry_t& pivot = c->pivot;
            while (true) {
                if (pivot.index == -1) {  // essential: the cocycle never dies below the threshold
                    std::lock_guard<std::mutex> guard(r_.lock);
                    claim(std::move(c));  // its walk used claimed columns only: nothing can change it
                    wake();
                    return take_ready();
                }
                if (const pivot_owner* owner = r_.pivots.find(pivot.index)) {
                    const coefficient_t factor =
                        field_.neg(field_.mul(pivot.coefficient, field_.inverse(owner->coefficient)));
                    add_column(owner->column, factor, pivot, column);
                    ++additions;
                    pivot = column.pivot();
                    if (++c->since_published == 64) publish(*c);
                    continue;
                }
                entry_t facet = filt_.zero_apparent_facet(pivot, r_.dim + 1, probe_, verts_, facet_);
                if (facet.index != -1 && facet.index != c->sigma.index) {  // owned by an apparent pair never reduced
                    // facet carries the pivot's coefficient times its sign in delta(facet).
                    facet.coefficient = field_.neg(facet.coefficient);
                    column.add(facet, &pivot);
                    ++additions;
                    pivot = column.pivot();
                    if (++c->since_published == 64) publish(*c);
                    continue;
                }
                std::lock_guard<std::mutex> guard(r_.lock);
                if (r_.pivots.contains(pivot.index)) continue;  // claimed since the lookup: add it
                if (can_claim(c->j, pivot)) claim(std::move(c));
                else park(std::move(c));
                wake();
                return take_ready();
            }
        }

        // A long column tells the others how far it has got, so that they
        // may claim pivots below it.
        void publish(column_state& c) {
            c.since_published = 0;
            // Ctrl-C is also checked here, so that a long column answers it.
            if (thread_ == 0 && r_.self.check_interrupt_) r_.self.check_interrupt_();
            if (r_.failed.load(std::memory_order_relaxed)) throw std::runtime_error("reduction abandoned");
            std::lock_guard<std::mutex> guard(r_.lock);
            r_.at(c.j).bound = c.pivot;
            wake();
        }

        // (Under the lock.) Whether column j may claim pivot t now: it lies
        // before every unclaimed earlier column's bound, so none of them can
        // ever own it.
        bool can_claim(std::size_t j, const entry_t& t) const {
            for (std::size_t i = r_.done; i < j; ++i)
                if (!r_.at(i).claimed && !filtration_less(t, r_.at(i).bound)) return false;
            return true;
        }

        // (Under the lock.) Parks c at its pivot, which becomes its bound.
        void park(std::unique_ptr<column_state> c) {
            typename run::slot& s = r_.at(c->j);
            s.bound = c->pivot;
            s.parked = std::move(c);
        }

        // (Under the lock.) Goes over the parked columns in order after a
        // claim or a new bound: a column whose pivot got an owner is woken,
        // one whose pivot lies before every earlier unfinished column's bound
        // claims it.
        void wake() {
            const std::size_t ready_before = r_.ready.size();
            entry_t lowest{infinity<value_t>(), -1, 0};  // least bound of the unclaimed columns so far
            for (std::size_t i = r_.done; i < r_.next; ++i) {
                typename run::slot& s = r_.at(i);
                if (s.claimed) continue;
                std::unique_ptr<column_state>& p = s.parked;
                if (p) {
                    // Only the pivots claimed since the last pass can have
                    // become owned: a column parks after checking its own.
                    const index_t t = p->pivot.index;
                    if (std::find(r_.new_claims.begin(), r_.new_claims.end(), t) != r_.new_claims.end()) {
                        r_.ready.push_back(std::move(p));  // an emergent candidate then reduces
                    } else if (filtration_less(p->pivot, lowest)) {
                        if (p->emergent_candidate) ++emergent;
                        claim(std::move(p));
                        continue;
                    }
                }
                if (filtration_less(s.bound, lowest)) lowest = s.bound;
            }
            if (!r_.new_claims.empty() || r_.ready.size() > ready_before) r_.work.notify_all();
            r_.new_claims.clear();
        }

        // (Under the lock.) A woken column, or null.
        std::unique_ptr<column_state> take_ready() {
            if (r_.ready.empty()) return nullptr;
            std::unique_ptr<column_state> c = std::move(r_.ready.back());
            r_.ready.pop_back();
            return c;
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

        // (Under the lock.) Column c pairs with its pivot (index -1: essential).
        void claim(std::unique_ptr<column_state> c) {
            const std::size_t j = c->j;
            const entry_t pivot = c->pivot;
            const bool reduced = !c->emergent_candidate;  // an emergent pair's cochain is sigma alone
            if (pivot.index == -1 || (reduced && pivot.diameter > c->sigma.diameter)) {  // a bar, not a zero-length pair
                const value_t death = pivot.index == -1 ? infinity<value_t>() : pivot.diameter;
                r_.records.push_back(claim_record{j, bar<value_t>{c->sigma.diameter, death, c->sigma.index, pivot.index},
                                                  r_.self.want_cocycles_ ? cocycle_of(*c, reduced) : cocycle{}});
            }
            r_.v.open(j);
            if (pivot.index != -1 && reduced)
                c->cochain->for_each_term([&](const entry_t& e) {
                    if (e.index != c->sigma.index) r_.v.append(e);
                });
            r_.v.close(j);  // before the pivot is published: a reader of it reads the column
            if (pivot.index != -1) {
                r_.pivots.insert(pivot.index, pivot_owner{static_cast<std::uint32_t>(j), pivot.coefficient});
                r_.new_claims.push_back(pivot.index);
            } else {
                r_.new_claims.push_back(-1);  // nobody waits on it, but the window may move
            }
            r_.at(j).claimed = 1;
            while (r_.done < r_.next && r_.at(r_.done).claimed) ++r_.done;
            if (spare_.size() < 4) spare_.push_back(std::move(c));
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

        cocycle cocycle_of(const column_state& c, bool reduced) const {
            std::vector<entry_t> terms;
            if (reduced) c.cochain->for_each_term([&](const entry_t& e) { terms.push_back(e); });
            else terms.push_back(c.sigma);
            std::sort(terms.begin(), terms.end(), [](const entry_t& a, const entry_t& b) { return filtration_less(a, b); });
            cocycle z;
            for (const entry_t& e : terms) {
                z.simplices.push_back(e.index);
                z.coefficients.push_back(e.coefficient);
            }
            return z;
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
