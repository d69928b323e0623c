// The two ways the engine sees distances: a dense condensed matrix, and sparse
// neighbourhoods (a thresholded or user-given graph).
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "types.hpp"

namespace toposcope {

// Upper triangle in row-major order, exactly scipy's pdist layout: d(i, j) for
// i < j at n*i - i*(i+1)/2 + (j - i - 1). The buffer may be borrowed (a numpy
// array) or owned.
template <class value_t>
class dense_distance_matrix {
public:
    static constexpr bool is_sparse = false;

    dense_distance_matrix(const value_t* condensed, index_t n, std::vector<value_t> births = {})
        : n_(n), data_(condensed), births_(std::move(births)) { init_rows(); }
    dense_distance_matrix(std::vector<value_t>&& condensed, index_t n, std::vector<value_t> births = {})
        : n_(n), owned_(std::move(condensed)), data_(owned_.data()), births_(std::move(births)) { init_rows(); }
    dense_distance_matrix(const dense_distance_matrix&) = delete;
    dense_distance_matrix& operator=(const dense_distance_matrix&) = delete;
    dense_distance_matrix(dense_distance_matrix&& other) noexcept { *this = std::move(other); }
    dense_distance_matrix& operator=(dense_distance_matrix&& other) noexcept {
        const bool owning = other.data_ == other.owned_.data();
        n_ = other.n_; owned_ = std::move(other.owned_); births_ = std::move(other.births_);
        row_start_ = std::move(other.row_start_);
        data_ = owning ? owned_.data() : other.data_;
        return *this;
    }

    index_t size() const { return n_; }
    // Distance between distinct vertices.
    value_t operator()(index_t i, index_t j) const {
        if (i > j) std::swap(i, j);
        return data_[row_start_[i] + j];
    }
    // Row i's distances to j > i, contiguous: row(i)[j] for j in (i, n).
    const value_t* row(index_t i) const { return data_ + row_start_[i]; }
    value_t vertex_birth(index_t i) const { return births_.empty() ? value_t(0) : births_[i]; }
    bool has_births() const { return !births_.empty(); }

private:
    void init_rows() {
        row_start_.resize(n_);
        for (index_t i = 0; i < n_; ++i) row_start_[i] = n_ * i - i * (i + 1) / 2 - i - 1;
    }
    index_t n_ = 0;
    std::vector<value_t> owned_;
    const value_t* data_ = nullptr;
    std::vector<value_t> births_;
    std::vector<index_t> row_start_;
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
        std::vector<index_t> degree(n + 1, 0);
        for (std::size_t e = 0; e < rows.size(); ++e)
            if (rows[e] != cols[e]) { ++degree[rows[e] + 1]; ++degree[cols[e] + 1]; }
        offsets_.assign(n + 1, 0);
        for (index_t i = 0; i < n; ++i) offsets_[i + 1] = offsets_[i] + degree[i + 1];
        neighbors_.resize(offsets_[n]);
        std::vector<index_t> fill(offsets_.begin(), offsets_.end() - 1);
        for (std::size_t e = 0; e < rows.size(); ++e) {
            if (rows[e] == cols[e]) continue;
            neighbors_[fill[rows[e]]++] = {static_cast<vertex_t>(cols[e]), values[e]};
            neighbors_[fill[cols[e]]++] = {static_cast<vertex_t>(rows[e]), values[e]};
        }
        // Sort each row and drop repeated neighbours.
        index_t out = 0;
        std::vector<index_t> new_offsets(n + 1, 0);
        for (index_t i = 0; i < n; ++i) {
            auto first = neighbors_.begin() + offsets_[i], last = neighbors_.begin() + offsets_[i + 1];
            std::stable_sort(first, last, [](const neighbor& a, const neighbor& b) { return a.vertex < b.vertex; });
            new_offsets[i] = out;
            for (auto it = first; it != last; ++it)
                if (it == first || it->vertex != (it - 1)->vertex) neighbors_[out++] = *it;
        }
        new_offsets[n] = out;
        neighbors_.resize(out);
        neighbors_.shrink_to_fit();
        offsets_ = std::move(new_offsets);
    }

    index_t size() const { return n_; }
    index_t num_edges() const { return static_cast<index_t>(neighbors_.size() / 2); }
    const neighbor* begin(index_t i) const { return neighbors_.data() + offsets_[i]; }
    const neighbor* end(index_t i) const { return neighbors_.data() + offsets_[i + 1]; }
    // Distance of an edge; infinity when the edge is not in the graph.
    value_t operator()(index_t i, index_t j) const {
        const neighbor* first = begin(i);
        const neighbor* last = end(i);
        const neighbor* it = std::lower_bound(first, last, j,
                                              [](const neighbor& a, index_t v) { return a.vertex < v; });
        return (it != last && it->vertex == j) ? it->diameter : infinity<value_t>();
    }
    value_t vertex_birth(index_t i) const { return births_.empty() ? value_t(0) : births_[i]; }
    bool has_births() const { return !births_.empty(); }

private:
    index_t n_;
    std::vector<index_t> offsets_;
    std::vector<neighbor> neighbors_;
    std::vector<value_t> births_;
};

}  // namespace toposcope
