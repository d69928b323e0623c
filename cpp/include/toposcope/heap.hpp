// A heap operation the standard library lacks.
#pragma once

#include <cstddef>
#include <vector>

namespace toposcope {

// Replaces the largest element of a max-heap (std::push_heap's) by x and
// restores the heap: one walk down, where pop_heap and push_heap take two.
template <class T, class Less>
void replace_heap_top(std::vector<T>& heap, const T& x, Less less) {
    const std::size_t n = heap.size();
    std::size_t i = 0;
    while (true) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && less(heap[child], heap[child + 1])) ++child;
        if (!less(x, heap[child])) break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = x;
}

}  // namespace toposcope
