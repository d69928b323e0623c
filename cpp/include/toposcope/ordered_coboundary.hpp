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
                // A zero coefficient leaves its cursors in the heap, contributing nothing.
                for (std::uint32_t c = sl.first_cursor; c < sl.end_cursor; ++c) cursors_[c].coefficient = sl.coefficient;
                return;
            }
            sl.coefficient = simplex.coefficient;  // revived: fresh cursors from the bound
            open_cursors(s, bound);
            return;
        }
        const std::uint32_t id = static_cast<std::uint32_t>(slots_.size());
        slots_.push_back(slot{simplex.index, simplex.diameter, simplex.coefficient, 0, 0});
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
            // Entries equal to the front form a subtree at the heap's root: sum
            // them in place, so that a pivot that stands costs no heap moves.
            coefficient_t sum = 0;
            stack_.assign(1, 0);
            while (!stack_.empty()) {
                const std::size_t i = stack_.back();
                stack_.pop_back();
                if (i >= heap_.size() || heap_[i].index != top.index) continue;
                sum = field_.add(sum, contribution(heap_[i]));
                for (std::size_t c = arity * i + 1; c <= arity * i + arity; ++c) stack_.push_back(c);
            }
            if (sum != 0) return entry_t{top.diameter, top.index, sum};
            // They cancel: move each on to its next cofacet.
            while (!heap_.empty() && heap_.front().index == top.index) {
                head& h = heap_.front();
                if (is_live(h) && next_head(h.cursor, nullptr, false, h)) sift_down(0);
                else pop_front();
            }
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
        std::uint32_t first_cursor, end_cursor;  // its current cursors, consecutive in cursors_
    };
    struct cursor {
        std::uint32_t slot;
        std::uint32_t pos, end;
        std::int16_t vertex;         // which vertex's neighbours it reads; -1: the equal-diameter cofacets in flat_
        coefficient_t coefficient;   // its simplex's, kept here so that the heap reads one record; 0 once stale
    };
    struct head {
        value_t diameter;
        index_t index;
        std::uint32_t cursor;
        std::uint32_t below;  // vertices of the simplex below w: the sign is (-1)^below
    };

    const index_t* verts_of(std::uint32_t s) const { return vertices_.data() + std::size_t(s) * (dim_ + 1); }
    const index_t* offsets_of(std::uint32_t s) const { return offsets_.data() + std::size_t(s) * (dim_ + 2); }

    void open_cursors(std::uint32_t s, const entry_t* bound) {
        for (std::uint32_t c = slots_[s].first_cursor; c < slots_[s].end_cursor; ++c) cursors_[c].coefficient = 0;
        slots_[s].first_cursor = static_cast<std::uint32_t>(cursors_.size());
        const slot& sl = slots_[s];
        const index_t* v = verts_of(s);
        const value_t d = sl.diameter;
        const bool from_start = bound == nullptr || bound->diameter < d;
        if (from_start || bound->diameter == d) {
            // Cofacets of diameter d, by decreasing w, each within d of every vertex.
            const std::size_t end = order_.first_beyond(v[0], d, false);
            const std::size_t begin = flat_.size();
            for (std::size_t p = 0; p < end; ++p) {
                const index_t w = order_.at(v[0], p);
                bool within = true;
                for (index_t t = 1; t <= dim_ && within; ++t) within = w != v[t] && dist_(v[t], w) <= d;
                if (within) flat_.push_back(static_cast<vertex_t>(w));
            }
            std::sort(flat_.begin() + begin, flat_.end(), [](vertex_t a, vertex_t b) { return a > b; });
            if (flat_.size() > begin) {
                cursors_.push_back(cursor{s, static_cast<std::uint32_t>(begin),
                                          static_cast<std::uint32_t>(flat_.size()), -1, sl.coefficient});
                start(static_cast<std::uint32_t>(cursors_.size() - 1), from_start ? nullptr : bound);
            }
        }
        for (index_t t = 0; t <= dim_; ++t) {
            const bool after = !from_start && bound->diameter > d;
            const std::size_t begin = after ? order_.first_beyond(v[t], bound->diameter, true)
                                            : order_.first_beyond(v[t], d, false);
            const std::size_t end = order_.size(v[t]);
            if (begin == end) continue;
            cursors_.push_back(cursor{s, static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end),
                                      static_cast<std::int16_t>(t), sl.coefficient});
            start(static_cast<std::uint32_t>(cursors_.size() - 1), after ? bound : nullptr);
        }
        slots_[s].end_cursor = static_cast<std::uint32_t>(cursors_.size());
    }

    // Moves cursor c to its next cofacet not before `bound` (past its current
    // one unless `first`); false when it has none left.
    bool next_head(std::uint32_t c, const entry_t* bound, bool first, head& out) {
        cursor& cur = cursors_[c];
        if (!first) ++cur.pos;
        const std::uint32_t s = cur.slot;
        const index_t* v = verts_of(s);
        const index_t* off = offsets_of(s);
        const value_t d = slots_[s].diameter;
        if (cur.vertex < 0) {
            for (; cur.pos < cur.end; ++cur.pos) {
                out = make_head(c, flat_[cur.pos], d, v, off);
                if (bound && filtration_less(out, *bound)) continue;
                return true;
            }
            return false;
        }
        const index_t t = cur.vertex;
        const value_t* row = dist_.row(v[t]);
        for (; cur.pos < cur.end; ++cur.pos) {
            order_.sort_through(v[t], cur.pos);
            const index_t w = order_.at(v[t], cur.pos);
            const value_t delta = row[w];
            bool mine = true;  // is v_t the vertex farthest from w (first among ties)?
            for (index_t u = 0; u < t && mine; ++u) mine = dist_(v[u], w) < delta;
            for (index_t u = t + 1; u <= dim_ && mine; ++u) mine = dist_(v[u], w) <= delta;
            if (!mine) continue;
            out = make_head(c, w, delta, v, off);
            if (bound && filtration_less(out, *bound)) continue;
            return true;
        }
        return false;
    }

    void start(std::uint32_t c, const entry_t* bound) {
        head h;
        if (next_head(c, bound, true, h)) push(h);
    }

    bool is_live(const head& h) const { return cursors_[h.cursor].coefficient != 0; }
    coefficient_t contribution(const head& h) const {
        return field_.mul(cursors_[h.cursor].coefficient, field_.sign(h.below));
    }

    head make_head(std::uint32_t c, index_t w, value_t diameter, const index_t* v, const index_t* off) const {
        index_t seg = 0;
        while (seg <= dim_ && v[seg] > w) ++seg;
        const index_t below = dim_ + 1 - seg;
        return head{diameter, off[seg] + codec_.binomial(w, below + 1), c, static_cast<std::uint32_t>(below)};
    }

    // A 4-ary min-heap in filtration order, by hand: pivot() reads the root's
    // subtree and replaces the root in place; four children per node halve
    // the depth, and a node's children share a cache line or two.
    static constexpr std::size_t arity = 4;
    void push(const head& h) {
        std::size_t i = heap_.size();
        heap_.push_back(h);
        while (i > 0) {
            const std::size_t parent = (i - 1) / arity;
            if (!filtration_less(h, heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = h;
    }
    void pop_front() {
        heap_.front() = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) sift_down(0);
    }
    void sift_down(std::size_t i) {
        const head h = heap_[i];
        const std::size_t n = heap_.size();
        while (true) {
            const std::size_t first = arity * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            const std::size_t last = std::min(n, first + arity);
            for (std::size_t c = first + 1; c < last; ++c)
                if (filtration_less(heap_[c], heap_[best])) best = c;
            if (!filtration_less(heap_[best], h)) break;
            heap_[i] = heap_[best];
            i = best;
        }
        heap_[i] = h;
    }

    const dense_distance_matrix<value_t>& dist_;
    const simplex_codec& codec_;
    const prime_field& field_;
    neighbor_order<value_t>& order_;
    index_t dim_;
    std::vector<slot> slots_;
    std::vector<cursor> cursors_;
    std::vector<head> heap_;
    std::vector<std::size_t> stack_;
    std::vector<index_t> vertices_, offsets_, verts_;
    std::vector<vertex_t> flat_;
    slot_index index_;
};

}  // namespace toposcope
