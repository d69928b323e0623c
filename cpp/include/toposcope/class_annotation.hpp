// Classes of d-simplices ("cells") in H_d of the complex swept so far, the
// state of the forward sweeps (forward_h1.hpp, forward_h2.hpp), after
// Kapulkin & Kershaw's "reduction to zero differentials" (arXiv 2606.06310).
//
// The alive classes Gen are named by their birth cells, whose ids increase
// in filtration order. class_of[c] is a set of generators: the image of the
// cell c in H_d of the complex so far; boundaries map to zero, every cycle
// to its class, and no cell to a generator younger than itself. support[g]
// is the transpose: the cells whose class holds g (a cocycle of g).
//
// A (d+1)-simplex t adds b = the sum of its facets' classes. If b is empty, t
// is a birth in H_{d+1} and H_d does not change. Otherwise the youngest
// generator j of b dies at t (the elder rule): every cell z in support[j]
// takes class_of[z] ^= b, the other generators y of b take support[y] ^=
// support[j], and j is forgotten. Cells with a class are *active*; most cells
// never are, and the sweeps look only at active ones.
//
// Classes live in slots that do not move while their cell is active. Cell ids
// map to slots through Index: a dense array for edges, a hash map for
// triangles (of which only the active ones are ever stored). A generator's own
// class is {itself} for as long as it lives (the first kill that touches it is
// its death), so its cell stays active and its support is kept under the same
// slot number.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "types.hpp"

namespace toposcope {

using cell_id = std::uint64_t;
using cell_slot = std::uint32_t;
constexpr cell_slot no_slot = ~cell_slot(0);

// Cell id -> slot, for ids below a known bound.
class dense_cell_index {
public:
    void resize(std::size_t cells) { slot_.assign(cells, no_slot); }
    cell_slot get(cell_id c) const { return slot_[c]; }
    void set(cell_id c, cell_slot s) { slot_[c] = s; }
    void erase(cell_id c) { slot_[c] = no_slot; }

private:
    std::vector<cell_slot> slot_;
};

// Cell id -> slot, storing only the ids present.
class sparse_cell_index {
public:
    cell_slot get(cell_id c) const {
        auto it = slot_.find(c);
        return it == slot_.end() ? no_slot : it->second;
    }
    void set(cell_id c, cell_slot s) { slot_[c] = s; }
    void erase(cell_id c) { slot_.erase(c); }

private:
    std::unordered_map<cell_id, cell_slot> slot_;
};

template <class Index>
class class_annotation {
public:
    using set_t = std::vector<cell_id>;   // sorted ascending
    // single(slot) mirrors a class for hot loops without reaching its heap
    // block: its generator if it has exactly one, else empty_set or several.
    static constexpr cell_id empty_set = ~cell_id(0), several = empty_set - 1;

    Index& classes() { return class_index_; }

    cell_slot slot(cell_id c) const { return class_index_.get(c); }
    const set_t& class_at(cell_slot s) const { return class_pool_[s]; }
    index_t kills() const { return kills_; }

    // The cell c is born as a generator: class {c}, support {c}.
    cell_slot born(cell_id c) {
        const cell_slot s = take();
        class_index_.set(c, s);
        class_pool_[s].assign(1, c);
        single_[s] = c;
        support_pool_[s].assign(1, c);
        live_[s] = 1;
        generator_[s] = c;
        return s;
    }

    // b = the sum of the classes in slots[0..k) (empty slots skipped). False
    // when b is empty, with no heap access when the classes are single.
    bool sum(const cell_slot* slots, int k, set_t& b) {
        cell_slot live[4];
        int m = 0;
        for (int i = 0; i < k; ++i)
            if (slots[i] != no_slot && single_[slots[i]] != empty_set) live[m++] = slots[i];
        if (m == 0) return false;
        // Two equal classes cancel, which is how nearly every sum ends (98.8 %
        // of them on a 2,000-point torus, many of classes with several
        // generators): compared in place, without a merge.
        auto same = [&](cell_slot a, cell_slot c) {
            return single_[a] == single_[c] && (single_[a] != several || class_pool_[a] == class_pool_[c]);
        };
        if (m == 2 && same(live[0], live[1])) return false;
        if (m == 3) {
            for (int i = 0; i < 3; ++i)
                if (same(live[(i + 1) % 3], live[(i + 2) % 3])) {
                    b = class_pool_[live[i]];
                    return true;
                }
        }
        b = class_pool_[live[0]];
        for (int i = 1; i < m; ++i) toggle(b, class_pool_[live[i]]);
        return !b.empty();
    }

    // The youngest generator of b dies; returns it. on_inactive(z) is called
    // for every cell whose class became empty (after its slot is freed).
    template <class F>
    cell_id kill(const set_t& b_in, F&& on_inactive) {
        ++kills_;
        b_ = b_in;   // b_in may be a class the update below changes
        const cell_id j = b_.back();
        const cell_slot j_slot = class_index_.get(j);
        live_support(j, dying_);
        for (cell_id z : dying_) {
            const cell_slot s = class_index_.get(z);
            set_t& c = class_pool_[s];
            // Every generator of b flips in class_of[z]; j leaves it.
            for (std::size_t k = 0; k + 1 < b_.size(); ++k) {
                const cell_slot g = class_index_.get(b_[k]);
                if (std::binary_search(c.begin(), c.end(), b_[k])) --live_[g];
                else { ++live_[g]; support_pool_[g].push_back(z); }
            }
            toggle(c, b_);
            single_[s] = c.empty() ? empty_set : c.size() == 1 ? c[0] : several;
            if (c.empty()) {
                class_index_.erase(z);
                if (z != j) free_.push_back(s);   // j's slot is freed below, after its support
                on_inactive(z, s);
            }
        }
        for (std::size_t k = 0; k + 1 < b_.size(); ++k) compact_if_stale(b_[k]);
        support_pool_[j_slot].clear();
        generator_[j_slot] = empty_set;
        if (class_pool_[j_slot].empty()) free_.push_back(j_slot);
        return j;
    }

    // Calls f(g) for each alive generator, in increasing id order.
    template <class F> void for_each_generator(F&& f) const {
        std::vector<cell_id> alive;
        for (cell_id g : generator_)
            if (g != empty_set) alive.push_back(g);
        std::sort(alive.begin(), alive.end());
        for (cell_id g : alive) f(g);
    }

private:
    cell_slot take() {
        if (!free_.empty()) { const cell_slot s = free_.back(); free_.pop_back(); return s; }
        class_pool_.emplace_back();
        support_pool_.emplace_back();
        single_.push_back(empty_set);
        live_.push_back(0);
        generator_.push_back(empty_set);
        return cell_slot(class_pool_.size() - 1);
    }
    void toggle(set_t& into, const set_t& other) {
        scratch_.clear();
        std::set_symmetric_difference(into.begin(), into.end(), other.begin(), other.end(), std::back_inserter(scratch_));
        into.swap(scratch_);
    }

    // support[g] is appended to only: a cell that leaves the support stays
    // listed (and may be listed again when it comes back) until the list is
    // read or grows to twice its live count. Reading filters and dedupes.
    void live_support(cell_id g, set_t& out) {
        out.clear();
        for (cell_id z : support_pool_[class_index_.get(g)]) {
            const cell_slot s = class_index_.get(z);
            if (s != no_slot && std::binary_search(class_pool_[s].begin(), class_pool_[s].end(), g)) out.push_back(z);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    void compact_if_stale(cell_id g) {
        const cell_slot s = class_index_.get(g);
        if (support_pool_[s].size() < 2 * std::size_t(live_[s]) + 32) return;
        live_support(g, compact_);
        support_pool_[s].swap(compact_);
    }

    Index class_index_;
    std::vector<set_t> class_pool_, support_pool_;   // by slot; a support only at a generator's slot
    std::vector<cell_id> single_;
    std::vector<index_t> live_;                       // live entries of each support list
    std::vector<cell_id> generator_;                  // the generator whose slot this is, or empty_set
    std::vector<cell_slot> free_;
    set_t b_, dying_, compact_, scratch_;
    index_t kills_ = 0;
};

}  // namespace toposcope
