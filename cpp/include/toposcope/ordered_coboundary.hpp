// A working column kept as the cochain itself: the simplices of V's column
// with their coefficients, each one visiting its cofacets lazily in
// filtration order. The column's coboundary is never listed; its pivot is the
// first entry, over all simplices, whose coefficients do not cancel.
//
// A simplex sigma = {v_0 > ... > v_dim} of diameter d has three kinds of
// cofacets sigma + w, each kind in filtration order:
//   - w within d of every vertex (diameter d): listed once, by decreasing w;
//   - for each vertex v_t, w with d(v_t, w) > d largest among the vertices
//     (ties go to the first such vertex): read off v_t's sorted neighbours.
// A heap merges these cursors. Adding a simplex already in the column only
// changes its coefficient: both copies would skip exactly the entries before
// the current pivot, so their cursors coincide.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "field.hpp"
#include "neighbor_order.hpp"
#include "simplex.hpp"

namespace toposcope {

// Simplex index -> slot number, flat, cleared in time proportional to its use.
class slot_index {
public:
    static constexpr std::uint32_t none = 0xffffffffu;
    std::uint32_t find(index_t key) const {
        if (keys_.empty()) return none;
        for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
            if (keys_[i] == key) return values_[i];
            if (keys_[i] == empty) return none;
        }
    }
    void insert(index_t key, std::uint32_t value) {
        if (2 * (used_.size() + 1) > keys_.size()) grow();
        std::size_t i = bucket(key);
        while (keys_[i] != empty) i = (i + 1) & mask_;
        keys_[i] = key;
        values_[i] = value;
        used_.push_back(i);
    }
    void clear() {
        for (std::size_t i : used_) keys_[i] = empty;
        used_.clear();
    }

private:
    static constexpr index_t empty = -1;
    std::size_t bucket(index_t key) const {
        return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> 24) & mask_;
    }
    void grow() {
        std::vector<index_t> old_keys(std::max<std::size_t>(64, 2 * keys_.size()), empty);
        std::vector<std::uint32_t> old_values(old_keys.size());
        old_keys.swap(keys_);
        old_values.swap(values_);
        mask_ = keys_.size() - 1;
        std::vector<std::size_t> old_used;
        old_used.swap(used_);
        for (std::size_t i : old_used) insert(old_keys[i], old_values[i]);
    }
    std::vector<index_t> keys_;
    std::vector<std::uint32_t> values_;
    std::vector<std::size_t> used_;
    std::size_t mask_ = 0;
};

template <class value_t>
class ordered_coboundary {
public:
    using entry_t = entry<value_t>;
    using vertex_t = typename neighbor_order<value_t>::vertex_t;

    ordered_coboundary(const dense_distance_matrix<value_t>& dist, const simplex_codec& codec, const prime_field& field,
                       neighbor_order<value_t>& order, index_t dim)
        : dist_(dist), codec_(codec), field_(field), order_(order), dim_(dim) {}

    void clear() {
        slots_.clear();
        cursors_.clear();
        heap_.clear();
        vertices_.clear();
        offsets_.clear();
        flat_.clear();
        index_.clear();
    }

    // Adds simplex.coefficient * delta(simplex), from `bound` on (all of it when null).
    void add(const entry_t& simplex, const entry_t* bound) {
        const std::uint32_t s = index_.find(simplex.index);
        if (s != slot_index::none) {
            slot& sl = slots_[s];
            if (sl.coefficient != 0) {
                sl.coefficient = field_.add(sl.coefficient, simplex.coefficient);
                if (sl.coefficient == 0) ++sl.generation;  // its cursors go stale
                return;
            }
            sl.coefficient = simplex.coefficient;  // revived: its old cursors are stale
            open_cursors(s, bound);
            return;
        }
        const std::uint32_t id = static_cast<std::uint32_t>(slots_.size());
        slots_.push_back(slot{simplex.index, simplex.diameter, simplex.coefficient, 0,
                              static_cast<std::uint32_t>(vertices_.size())});
        index_.insert(simplex.index, id);
        codec_.vertices(simplex.index, dim_, verts_);
        vertices_.insert(vertices_.end(), verts_.begin(), verts_.end());
        // Cofacet index with w between vertices seg - 1 and seg: a constant plus C(w, k + 1).
        index_t below = simplex.index, above = 0, k = dim_ + 1;
        for (index_t seg = 0; seg <= dim_ + 1; ++seg) {
            offsets_.push_back(above + below);
            if (seg <= dim_) {
                below -= codec_.binomial(verts_[seg], k);
                above += codec_.binomial(verts_[seg], k + 1);
                --k;
            }
        }
        open_cursors(id, bound);
    }

    // The column's pivot with its summed coefficient; index -1 when the column is zero.
    entry_t pivot() {
        while (!heap_.empty()) {
            const head top = heap_.front();
            coefficient_t sum = 0;
            group_.clear();
            while (!heap_.empty() && heap_.front().index == top.index) {
                const head h = pop();
                const cursor& c = cursors_[h.cursor];
                const slot& sl = slots_[c.slot];
                if (c.generation != sl.generation) continue;  // its simplex left the column
                sum = field_.add(sum, field_.mul(sl.coefficient, field_.sign(h.below)));
                group_.push_back(h);
            }
            if (group_.empty()) continue;
            if (sum != 0) {
                for (const head& h : group_) push(h);
                return entry_t{top.diameter, top.index, sum};
            }
            for (const head& h : group_) advance(h.cursor, nullptr);
        }
        return entry_t{value_t(0), -1, 0};
    }

    // Calls f(entry) for every simplex of the column with a nonzero coefficient.
    template <class F>
    void for_each_term(F&& f) const {
        for (const slot& sl : slots_)
            if (sl.coefficient != 0) f(entry_t{sl.diameter, sl.index, sl.coefficient});
    }

private:
    struct slot {
        index_t index;
        value_t diameter;
        coefficient_t coefficient;
        std::uint32_t generation;
        std::uint32_t first_vertex;  // into vertices_ (dim + 1 of them); offsets_ has dim + 2 from first_vertex + slot number
    };
    struct cursor {
        std::uint32_t slot, generation;
        std::uint32_t pos, end;
        std::int32_t vertex;  // which vertex's neighbours it reads; -1: the equal-diameter cofacets in flat_
    };
    struct head {
        value_t diameter;
        index_t index;
        std::uint32_t cursor;
        std::uint32_t below;  // vertices of the simplex below w: the sign is (-1)^below
    };

    const index_t* verts_of(const slot& sl) const { return vertices_.data() + sl.first_vertex; }
    const index_t* offsets_of(std::uint32_t s) const { return offsets_.data() + std::size_t(s) * (dim_ + 2); }

    void open_cursors(std::uint32_t s, const entry_t* bound) {
        const slot& sl = slots_[s];
        const index_t* v = verts_of(sl);
        const value_t d = sl.diameter;
        const bool from_start = bound == nullptr || bound->diameter < d;
        if (from_start || bound->diameter == d) {
            // Cofacets of diameter d, by decreasing w, each within d of every vertex.
            const std::vector<vertex_t>& list = order_.of(v[0]);
            const std::size_t end = order_.first_beyond(v[0], d, false);
            const std::size_t begin = flat_.size();
            for (std::size_t p = 0; p < end; ++p) {
                const index_t w = list[p];
                bool within = true;
                for (index_t t = 1; t <= dim_ && within; ++t) within = w != v[t] && dist_(v[t], w) <= d;
                if (within) flat_.push_back(static_cast<vertex_t>(w));
            }
            std::sort(flat_.begin() + begin, flat_.end(), [](vertex_t a, vertex_t b) { return a > b; });
            if (flat_.size() > begin) {
                cursors_.push_back(cursor{s, sl.generation, static_cast<std::uint32_t>(begin),
                                          static_cast<std::uint32_t>(flat_.size()), -1});
                advance(static_cast<std::uint32_t>(cursors_.size() - 1), from_start ? nullptr : bound, true);
            }
        }
        for (index_t t = 0; t <= dim_; ++t) {
            const bool after = !from_start && bound->diameter > d;
            const std::size_t begin = after ? order_.first_beyond(v[t], bound->diameter, true)
                                            : order_.first_beyond(v[t], d, false);
            const std::size_t end = order_.of(v[t]).size();
            if (begin == end) continue;
            cursors_.push_back(cursor{s, sl.generation, static_cast<std::uint32_t>(begin),
                                      static_cast<std::uint32_t>(end), static_cast<std::int32_t>(t)});
            advance(static_cast<std::uint32_t>(cursors_.size() - 1), after ? bound : nullptr, true);
        }
    }

    // Moves cursor c to its next cofacet not before `bound` (past its current
    // one unless `first`) and pushes it on the heap; an exhausted cursor is dropped.
    void advance(std::uint32_t c, const entry_t* bound, bool first = false) {
        cursor& cur = cursors_[c];
        if (!first) ++cur.pos;
        const std::uint32_t s = cur.slot;
        const index_t* v = verts_of(slots_[s]);
        const index_t* off = offsets_of(s);
        const value_t d = slots_[s].diameter;
        if (cur.vertex < 0) {
            for (; cur.pos < cur.end; ++cur.pos) {
                const head h = make_head(c, flat_[cur.pos], d, v, off);
                if (bound && before(h, *bound)) continue;
                push(h);
                return;
            }
            return;
        }
        const index_t t = cur.vertex;
        const std::vector<vertex_t>& list = order_.of(v[t]);
        const value_t* row = dist_.row(v[t]);
        for (; cur.pos < cur.end; ++cur.pos) {
            const index_t w = list[cur.pos];
            const value_t delta = row[w];
            bool mine = true;  // is v_t the vertex farthest from w (first among ties)?
            for (index_t u = 0; u < t && mine; ++u) mine = dist_(v[u], w) < delta;
            for (index_t u = t + 1; u <= dim_ && mine; ++u) mine = dist_(v[u], w) <= delta;
            if (!mine) continue;
            const head h = make_head(c, w, delta, v, off);
            if (bound && before(h, *bound)) continue;
            push(h);
            return;
        }
    }

    head make_head(std::uint32_t c, index_t w, value_t diameter, const index_t* v, const index_t* off) const {
        index_t seg = 0;
        while (seg <= dim_ && v[seg] > w) ++seg;
        const index_t below = dim_ + 1 - seg;
        return head{diameter, off[seg] + codec_.binomial(w, below + 1), c, static_cast<std::uint32_t>(below)};
    }

    static bool before(const head& h, const entry_t& bound) {
        return h.diameter < bound.diameter || (h.diameter == bound.diameter && h.index > bound.index);
    }
    // Heap order: the front is the entry first in the filtration.
    static bool later(const head& a, const head& b) { return filtration_less(b, a); }
    void push(const head& h) {
        heap_.push_back(h);
        std::push_heap(heap_.begin(), heap_.end(), later);
    }
    head pop() {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        head h = heap_.back();
        heap_.pop_back();
        return h;
    }

    const dense_distance_matrix<value_t>& dist_;
    const simplex_codec& codec_;
    const prime_field& field_;
    neighbor_order<value_t>& order_;
    index_t dim_;
    std::vector<slot> slots_;
    std::vector<cursor> cursors_;
    std::vector<head> heap_, group_;
    std::vector<index_t> vertices_, offsets_, verts_;
    std::vector<vertex_t> flat_;
    slot_index index_;
};

}  // namespace toposcope
