// The working coboundary of a column as a lazy k-way merge.
//
// Every simplex or column added to a column contributes a *stream* of
// cofacets, and only each stream's head sits in the top-level heap, so a
// stream is consumed just as far as the pivot search needs. Two kinds:
//   - an owned stream holds freshly enumerated cofacets;
//   - a cached stream replays a cached coboundary (see reduction.hpp) scaled
//     by a factor, without copying it.
// Both are ordered lazily: only a prefix is sorted (nth_element, then a sort
// of the chunk), and it doubles when the merge runs past it, so a pop is a
// pointer increment and an unused tail is never ordered.
#pragma once

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "field.hpp"
#include "heap.hpp"

namespace toposcope {

// Entries of which only a growing prefix is sorted; every entry of the prefix
// precedes (in the filtration) every entry after it.
template <class value_t>
struct lazily_sorted {
    std::vector<entry<value_t>> entries;
    std::size_t sorted = 0;

    lazily_sorted() = default;
    explicit lazily_sorted(std::vector<entry<value_t>> e) : entries(std::move(e)) { restart(); }
    void restart() {
        sorted = 0;
        extend(64);
    }
    // Sorts the prefix up to `want` entries (at least 64 at a time); returns its new length.
    std::size_t extend(std::size_t want) {
        want = std::min(std::max<std::size_t>(want, 64), entries.size());
        if (want <= sorted) return sorted;
        auto first = entries.begin() + sorted, mid = entries.begin() + want;
        auto less = [](const entry<value_t>& a, const entry<value_t>& b) { return filtration_less(a, b); };
        if (mid != entries.end()) std::nth_element(first, mid, entries.end(), less);
        std::sort(first, mid, less);
        sorted = want;
        return sorted;
    }
};

template <class value_t>
class coboundary_merge {
public:
    using entry_t = entry<value_t>;

    void clear() {
        release_spare_buffers();
        pending_.index = -1;
        owned_used_ = 0;
        sorted_.clear();
        top_.clear();
    }

    // A buffer to fill with one owned stream's entries, then hand to add_heap_stream().
    std::vector<entry_t>& new_heap_stream() {
        restore_pending();  // streams added after pivot() must merge with the held pivot
        if (owned_used_ == owned_.size()) owned_.emplace_back();
        owned_[owned_used_].entries.clear();
        return owned_[owned_used_].entries;
    }
    void add_heap_stream(const prime_field& field) {
        lazily_sorted<value_t>& s = owned_[owned_used_];
        account(owned_used_);
        if (s.entries.empty()) return;
        s.restart();
        ++owned_used_;
        add_cached_stream(s, 1, field);
    }

    // Replays a cached coboundary times factor; it must outlive the column's reduction.
    void add_cached_stream(lazily_sorted<value_t>& cache, coefficient_t factor, const prime_field& field) {
        restore_pending();
        if (cache.entries.empty()) return;
        sorted_.push_back({&cache, 0, factor});
        push_top(scaled(cache.entries[0], factor, field), sorted_.size() - 1);
    }

    // Removes and returns the pivot with its summed coefficient (index -1 when zero).
    entry_t pop_pivot(const prime_field& field) {
        if (pending_.index != -1) {  // the pivot found last time, already summed
            entry_t e = pending_;
            pending_.index = -1;
            return e;
        }
        while (!top_.empty()) {
            entry_t e = pop(field);
            while (!top_.empty() && top_.front().first.index == e.index)
                e.coefficient = field.add(e.coefficient, pop(field).coefficient);
            if (e.coefficient != 0) return e;
        }
        return entry_t{value_t(0), -1, 0};
    }
    // The pivot, left in the column.
    entry_t pivot(const prime_field& field) {
        pending_ = pop_pivot(field);
        return pending_;
    }

private:
    void restore_pending() {
        if (pending_.index == -1) return;
        const entry_t e = pending_;
        pending_.index = -1;
        if (owned_used_ == owned_.size()) owned_.emplace_back();
        lazily_sorted<value_t>& s = owned_[owned_used_++];
        s.entries.assign(1, e);
        s.sorted = 1;
        account(owned_used_ - 1);
        sorted_.push_back({&s, 0, 1});
        push_top(e, sorted_.size() - 1);
    }

    // Owned buffers are reused between columns, but each keeps the largest
    // capacity it ever had: after a few long reductions the idle capacity
    // dwarfs what any one column holds (3.5 GB retained against 355 MB live on
    // 2,000 uniform points in R^50). Free them when the retained capacity is
    // more than twice what the last column used.
    void release_spare_buffers() {
        if (capacity_ <= 2 * live_ + (std::size_t(1) << 20)) {
            live_ = 0;
            return;
        }
        for (auto& s : owned_) std::vector<entry<value_t>>().swap(s.entries);
        slot_capacity_.assign(owned_.size(), 0);
        capacity_ = live_ = 0;
    }
    // Called once an owned slot is filled: keeps the totals above up to date in O(1).
    void account(std::size_t slot) {
        if (slot_capacity_.size() < owned_.size()) slot_capacity_.resize(owned_.size(), 0);
        const std::size_t c = owned_[slot].entries.capacity();
        capacity_ += c - slot_capacity_[slot];
        slot_capacity_[slot] = c;
        live_ += owned_[slot].entries.size();
    }

    struct sorted_stream {
        lazily_sorted<value_t>* cache;
        std::size_t next;
        coefficient_t factor;
    };
    using head_t = std::pair<entry_t, std::size_t>;
    static bool later_head(const head_t& a, const head_t& b) { return filtration_less(b.first, a.first); }
    static entry_t scaled(entry_t e, coefficient_t factor, const prime_field& field) {
        e.coefficient = field.mul(e.coefficient, factor);
        return e;
    }

    void push_top(const entry_t& e, std::size_t s) {
        top_.emplace_back(e, s);
        std::push_heap(top_.begin(), top_.end(), later_head);
    }
    // The earliest head; its stream's next entry takes its place in the heap
    // (one walk down instead of a pop and a push).
    entry_t pop(const prime_field& field) {
        const auto [e, id] = top_.front();
        sorted_stream& st = sorted_[id];
        if (++st.next == st.cache->sorted) st.cache->extend(2 * st.next);
        if (st.next < st.cache->sorted) {
            replace_heap_top(top_, head_t(scaled(st.cache->entries[st.next], st.factor, field), id), later_head);
        } else {
            std::pop_heap(top_.begin(), top_.end(), later_head);
            top_.pop_back();
        }
        return e;
    }

    std::deque<lazily_sorted<value_t>> owned_;  // reused between columns; a deque keeps addresses stable
    std::size_t owned_used_ = 0;
    std::vector<std::size_t> slot_capacity_;  // capacity of each owned slot when last filled
    std::size_t capacity_ = 0, live_ = 0;     // their sum; entries filled for the current column
    std::vector<sorted_stream> sorted_;
    std::vector<head_t> top_;
    entry_t pending_{value_t(0), -1, 0};
};

}  // namespace toposcope
