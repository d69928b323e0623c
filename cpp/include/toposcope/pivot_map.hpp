// Which column owns each pivot: a flat open-addressing hash map from simplex
// index to (column, coefficient). Lookups dominate clearing and reduction, and
// a flat table avoids the node allocations of std::unordered_map.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
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
    pivot_map() = default;
    pivot_map(pivot_map&& other) noexcept { swap(other); }
    pivot_map& operator=(pivot_map&& other) noexcept { swap(other); return *this; }

    // Room for the pivots of n columns; owners are 32-bit column numbers.
    // Call before concurrent use: inserts up to n keys never rehash then.
    void reserve(std::size_t n) {
        if (n >= (std::size_t(1) << 32))
            throw std::length_error("more than 2^32 columns in one dimension: use a threshold or fewer points");
        std::size_t cap = 16;
        while (cap < 2 * n) cap <<= 1;
        if (cap > cap_) rehash(cap);
    }
    std::size_t size() const { return size_; }

    // The owner of simplex `key`, or nullptr. Safe while one other thread
    // inserts (into a reserved table): a key is published after its owner.
    const pivot_owner* find(index_t key) const {
        if (cap_ == 0) return nullptr;
        for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
            const slot& s = slots_[i];
            const index_t k = s.key.load(std::memory_order_acquire);
            if (k == key) return &s.value;
            if (k == empty) return nullptr;
        }
    }
    bool contains(index_t key) const { return find(key) != nullptr; }

    // Inserts unless present. One writer at a time.
    void insert(index_t key, pivot_owner value) {
        if (2 * (size_ + 1) > cap_) rehash(cap_ == 0 ? 16 : 2 * cap_);
        for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
            slot& s = slots_[i];
            const index_t k = s.key.load(std::memory_order_relaxed);
            if (k == key) return;
            if (k == empty) {
                s.value = value;
                s.key.store(key, std::memory_order_release);
                ++size_;
                return;
            }
        }
    }

private:
    static constexpr index_t empty = -1;
    struct slot {
        std::atomic<index_t> key{empty};
        pivot_owner value{};
    };
    std::size_t bucket(index_t key) const {
        std::uint64_t h = static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull;  // Fibonacci hashing
        return static_cast<std::size_t>(h >> 20) & mask_;
    }
    void rehash(std::size_t cap) {
        std::unique_ptr<slot[]> old(new slot[cap]);
        old.swap(slots_);
        const std::size_t old_cap = cap_;
        cap_ = cap;
        mask_ = cap - 1;
        size_ = 0;
        for (std::size_t i = 0; i < old_cap; ++i) {
            const index_t k = old[i].key.load(std::memory_order_relaxed);
            if (k != empty) insert(k, old[i].value);
        }
    }
    void swap(pivot_map& other) noexcept {
        slots_.swap(other.slots_);
        std::swap(cap_, other.cap_);
        std::swap(mask_, other.mask_);
        std::swap(size_, other.size_);
    }
    std::unique_ptr<slot[]> slots_;
    std::size_t cap_ = 0, mask_ = 0, size_ = 0;
};

}  // namespace toposcope
