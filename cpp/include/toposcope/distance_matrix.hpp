// The two ways the engine sees distances: a dense condensed matrix, and sparse
// neighbourhoods (a thresholded or user-given graph).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "types.hpp"

namespace toposcope {

// Leaves values it makes without arguments uninitialised (vector::resize
// then writes nothing): an n x n matrix is filled by the threads that compute
// its entries, which so take the first page faults in parallel. Zero-filling
// it first cost as much as the distances themselves (10,000 points: 0.5 s).
template <class T>
struct uninitialized_allocator : std::allocator<T> {
    template <class U>
    struct rebind { using other = uninitialized_allocator<U>; };
    uninitialized_allocator() = default;
    template <class U>
    uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {}
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        if constexpr (sizeof...(Args) == 0) ::new (static_cast<void*>(p)) U;
        else ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

// The storage of an owned square matrix.
template <class value_t>
using square_buffer = std::vector<value_t, uninitialized_allocator<value_t>>;

// A full square matrix in row-major order, so that a vertex's distances to all
// others are contiguous (the scans over candidate vertices are then
// vectorisable). The buffer may be borrowed (a numpy array) or owned. Vertex
// births are kept apart from the diagonal, which is never read.
template <class value_t>
class dense_distance_matrix {
public:
    static constexpr bool is_sparse = false;

    dense_distance_matrix(const value_t* square, index_t n, std::vector<value_t> births = {})
        : n_(n), data_(square), births_(std::move(births)) {}
    dense_distance_matrix(square_buffer<value_t>&& square, index_t n, std::vector<value_t> births = {})
        : n_(n), owned_(std::move(square)), data_(owned_.data()), births_(std::move(births)) {}
    dense_distance_matrix(const dense_distance_matrix&) = delete;
    dense_distance_matrix& operator=(const dense_distance_matrix&) = delete;
    dense_distance_matrix(dense_distance_matrix&& other) noexcept { *this = std::move(other); }
    dense_distance_matrix& operator=(dense_distance_matrix&& other) noexcept {
        const bool owning = other.data_ == other.owned_.data();
        n_ = other.n_; owned_ = std::move(other.owned_); births_ = std::move(other.births_);
        data_ = owning ? owned_.data() : other.data_;
        return *this;
    }

    // Expands scipy's condensed layout (d(i, j), i < j, row by row) to a square.
    static dense_distance_matrix from_condensed(const value_t* condensed, index_t n, std::vector<value_t> births = {}) {
        square_buffer<value_t> square(static_cast<std::size_t>(n) * n);
        std::size_t k = 0;
        for (index_t i = 0; i < n; ++i) {
            square[i * n + i] = value_t(0);
            for (index_t j = i + 1; j < n; ++j, ++k) square[i * n + j] = square[j * n + i] = condensed[k];
        }
        return dense_distance_matrix(std::move(square), n, std::move(births));
    }

    index_t size() const { return n_; }
    // Distance between distinct vertices.
    value_t operator()(index_t i, index_t j) const { return data_[i * n_ + j]; }
    // All distances from vertex i; row(i)[i] is meaningless.
    const value_t* row(index_t i) const { return data_ + i * n_; }
    value_t vertex_birth(index_t i) const { return births_.empty() ? value_t(0) : births_[i]; }
    bool has_births() const { return !births_.empty(); }

private:
    index_t n_ = 0;
    square_buffer<value_t> owned_;
    const value_t* data_ = nullptr;
    std::vector<value_t> births_;
};

// Neighbourhoods in compressed sparse rows, each sorted by neighbour index.
// Edges absent from the graph are never in the filtration.
template <class value_t>
class sparse_distance_matrix {
public:
    static constexpr bool is_sparse = true;
    using vertex_t = std::int32_t;

    struct neighbor {
        vertex_t vertex;
        value_t diameter;
    };

    // Builds from an edge list (i, j, d) with i != j; each undirected edge may
    // appear once or twice (both directions); duplicates keep the first value.
    sparse_distance_matrix(index_t n, const std::vector<index_t>& rows, const std::vector<index_t>& cols,
                           const std::vector<value_t>& values, std::vector<value_t> births = {})
        : n_(n), births_(std::move(births)) {
        build(rows.size(), [&](std::size_t e) { return filtered_edge<value_t>{rows[e], cols[e], values[e]}; });
    }
    sparse_distance_matrix(index_t n, const std::vector<filtered_edge<value_t>>& edges, std::vector<value_t> births = {})
        : n_(n), births_(std::move(births)) {
        build(edges.size(), [&](std::size_t e) { return edges[e]; });
    }

    index_t size() const { return n_; }
    index_t num_edges() const { return static_cast<index_t>(neighbors_.size() / 2); }
    const neighbor* begin(index_t i) const { return neighbors_.data() + offsets_[i]; }
    const neighbor* end(index_t i) const { return neighbors_.data() + offsets_[i + 1]; }
    // Distance of an edge; infinity when the edge is not in the graph.
    value_t operator()(index_t i, index_t j) const {
        if (has_bits()) return adjacent(i, j) ? neighbor_at(i, j).diameter : infinity<value_t>();
        const neighbor* first = begin(i);
        const neighbor* last = end(i);
        const neighbor* it = std::lower_bound(first, last, j,
                                              [](const neighbor& a, index_t v) { return a.vertex < v; });
        return (it != last && it->vertex == j) ? it->diameter : infinity<value_t>();
    }
    value_t vertex_birth(index_t i) const { return births_.empty() ? value_t(0) : births_[i]; }
    bool has_births() const { return !births_.empty(); }

    // Adjacency bits beside the lists, on graphs dense enough that they cost
    // at most twice the lists, and at most 64 MB (an average degree of about
    // n / 170 or more, n up to about 19,000: collapsed graphs): the common
    // neighbours of a simplex are then an AND of rows, scanned a word at a
    // time (coboundary.hpp, filtration.hpp), and a neighbour's place in a
    // list is a count of bits.
    bool has_bits() const { return words_ > 0; }
    std::size_t words() const { return words_; }
    const std::uint64_t* bit_row(index_t i) const { return bits_.data() + std::size_t(i) * words_; }
    bool adjacent(index_t i, index_t j) const { return bit_row(i)[j >> 6] >> (j & 63) & 1; }
    // Word `word` of the AND of the rows of verts[0 .. k): their common neighbours there.
    std::uint64_t common_word(const index_t* verts, std::size_t k, std::size_t word) const {
        std::uint64_t m = ~std::uint64_t(0);
        for (std::size_t a = 0; a < k; ++a) m &= bit_row(verts[a])[word];
        return m;
    }
    // The entry of j in i's list; j must be a neighbour of i.
    const neighbor& neighbor_at(index_t i, index_t j) const {
        const std::size_t k = std::size_t(i) * words_ + std::size_t(j >> 6);
        const std::uint64_t under = bits_[k] & ((std::uint64_t(1) << (j & 63)) - 1);
        return neighbors_[std::size_t(offsets_[i]) + below_[k] + std::size_t(__builtin_popcountll(under))];
    }

private:
    void build_bits() {
        const std::size_t words = (std::size_t(n_) + 63) / 64;
        const std::size_t bytes = std::size_t(n_) * words * (sizeof(std::uint64_t) + sizeof(std::uint32_t));
        // At most 64 MB (n up to about 19,000): memory estimates count the lists.
        if (n_ == 0 || bytes > 2 * neighbors_.size() * sizeof(neighbor) || bytes > (std::size_t(64) << 20)) return;
        words_ = words;
        bits_.assign(std::size_t(n_) * words, 0);
        below_.assign(std::size_t(n_) * words, 0);
        for (index_t i = 0; i < n_; ++i) {
            std::uint64_t* row = bits_.data() + std::size_t(i) * words;
            for (const neighbor* it = begin(i); it != end(i); ++it)
                row[it->vertex >> 6] |= std::uint64_t(1) << (it->vertex & 63);
            std::uint32_t count = 0;
            for (std::size_t k = 0; k < words; ++k) {
                below_[std::size_t(i) * words + k] = count;
                count += static_cast<std::uint32_t>(__builtin_popcountll(row[k]));
            }
        }
    }

    template <class Edge>
    void build(std::size_t m, Edge&& edge) {
        std::vector<index_t> degree(n_ + 1, 0);
        for (std::size_t e = 0; e < m; ++e) {
            const filtered_edge<value_t> x = edge(e);
            if (x.u != x.v) { ++degree[x.u + 1]; ++degree[x.v + 1]; }
        }
        offsets_.assign(n_ + 1, 0);
        for (index_t i = 0; i < n_; ++i) offsets_[i + 1] = offsets_[i] + degree[i + 1];
        neighbors_.resize(offsets_[n_]);
        std::vector<index_t> fill(offsets_.begin(), offsets_.end() - 1);
        for (std::size_t e = 0; e < m; ++e) {
            const filtered_edge<value_t> x = edge(e);
            if (x.u == x.v) continue;
            neighbors_[fill[x.u]++] = {static_cast<vertex_t>(x.v), x.value};
            neighbors_[fill[x.v]++] = {static_cast<vertex_t>(x.u), x.value};
        }
        // Sort each row and drop repeated neighbours.
        index_t out = 0;
        std::vector<index_t> new_offsets(n_ + 1, 0);
        for (index_t i = 0; i < n_; ++i) {
            auto first = neighbors_.begin() + offsets_[i], last = neighbors_.begin() + offsets_[i + 1];
            std::stable_sort(first, last, [](const neighbor& a, const neighbor& b) { return a.vertex < b.vertex; });
            new_offsets[i] = out;
            for (auto it = first; it != last; ++it)
                if (it == first || it->vertex != (it - 1)->vertex) neighbors_[out++] = *it;
        }
        new_offsets[n_] = out;
        neighbors_.resize(out);
        neighbors_.shrink_to_fit();
        offsets_ = std::move(new_offsets);
        build_bits();
    }

    index_t n_;
    std::vector<index_t> offsets_;
    std::vector<neighbor> neighbors_;
    std::size_t words_ = 0;                 // per bit row; 0: no bits
    std::vector<std::uint64_t> bits_;       // row i: i's neighbours
    std::vector<std::uint32_t> below_;      // row i, word k: i's neighbours under 64 k
    std::vector<value_t> births_;
};

}  // namespace toposcope
