// Which column owns each pivot: a flat open-addressing hash map from simplex
// index to (column, coefficient). Lookups dominate clearing and reduction, and
// a flat table avoids the node allocations of std::unordered_map.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "types.hpp"

namespace toposcope {

// Packed with its key into 16 bytes: the table of H2 and above holds millions
// of pivots, and every lookup is a cache miss.
struct pivot_owner {
    std::uint32_t column;        // position in the column list (reducers check the count fits)
    coefficient_t coefficient;   // coefficient of the pivot in that reduced column
};

class pivot_map {
public:
    // Room for the pivots of n columns; owners are 32-bit column numbers.
    void reserve(std::size_t n) {
        if (n >= (std::size_t(1) << 32))
            throw std::length_error("more than 2^32 columns in one dimension: use a threshold or fewer points");
        std::size_t cap = 16;
        while (cap < 2 * n) cap <<= 1;
        if (cap > slots_.size()) rehash(cap);
    }
    std::size_t size() const { return size_; }

    // The owner of simplex `key`, or nullptr.
    const pivot_owner* find(index_t key) const {
        if (slots_.empty()) return nullptr;
        for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
            const slot& s = slots_[i];
            if (s.key == key) return &s.value;
            if (s.key == empty) return nullptr;
        }
    }
    bool contains(index_t key) const { return find(key) != nullptr; }

    // Hints that `key` will be looked up soon.
    void prefetch(index_t key) const {
#if defined(__GNUC__) || defined(__clang__)
        if (!slots_.empty()) __builtin_prefetch(&slots_[bucket(key)]);
#else
        (void)key;
#endif
    }

    // Inserts unless present.
    void insert(index_t key, pivot_owner value) {
        if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
        for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
            slot& s = slots_[i];
            if (s.key == key) return;
            if (s.key == empty) {
                s.key = key;
                s.value = value;
                ++size_;
                return;
            }
        }
    }

private:
    static constexpr index_t empty = -1;
    struct slot {
        index_t key = empty;
        pivot_owner value{};
    };
    std::size_t bucket(index_t key) const {
        std::uint64_t h = static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull;  // Fibonacci hashing
        return static_cast<std::size_t>(h >> 20) & mask_;
    }
    void rehash(std::size_t cap) {
        std::vector<slot> old;
        old.swap(slots_);
        slots_.assign(cap, slot{});
        mask_ = cap - 1;
        size_ = 0;
        for (const slot& s : old)
            if (s.key != empty) insert(s.key, s.value);
    }
    std::vector<slot> slots_;
    std::size_t mask_ = 0, size_ = 0;
};

}  // namespace toposcope
