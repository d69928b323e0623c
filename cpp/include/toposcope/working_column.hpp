// A column under reduction: a binary heap of entries that may hold the same
// simplex several times; coefficients of equal simplices are summed lazily
// when the pivot (the entry first in the filtration) is asked for.
#pragma once

#include <algorithm>
#include <vector>

#include "field.hpp"

namespace toposcope {

template <class value_t>
class working_column {
public:
    using entry_t = entry<value_t>;

    void clear() { heap_.clear(); }
    bool empty() const { return heap_.empty(); }
    void push(const entry_t& e) {
        heap_.push_back(e);
        std::push_heap(heap_.begin(), heap_.end(), later);
    }
    // Removes and returns the pivot with its summed coefficient (index -1 when zero).
    entry_t pop_pivot(const prime_field& field) {
        while (!heap_.empty()) {
            entry_t e = pop();
            while (!heap_.empty() && heap_.front().index == e.index)
                e.coefficient = field.add(e.coefficient, pop().coefficient);
            if (e.coefficient != 0) return e;
        }
        return entry_t{value_t(0), -1, 0};
    }
    // The pivot, left in the column.
    entry_t pivot(const prime_field& field) {
        entry_t e = pop_pivot(field);
        if (e.index != -1) push(e);
        return e;
    }

private:
    entry_t pop() {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        entry_t e = heap_.back();
        heap_.pop_back();
        return e;
    }
    // Heap order: the front is the entry first in the filtration.
    static bool later(const entry_t& a, const entry_t& b) { return filtration_less(b, a); }
    std::vector<entry_t> heap_;
};

}  // namespace toposcope
