// Each vertex's neighbours sorted by distance, so that the cofacets of a
// simplex can be visited in filtration order (Bauer, Matuszewski and
// Vejdemo-Johansson's observation): a cofacet's diameter is the largest
// distance from the new vertex to the simplex, so walking the vertices' sorted
// lists in step yields cofacets by increasing diameter without enumerating the
// rest.
//
// Lists hold vertex numbers only (distances are read back from the matrix
// rows), ordered by (distance, decreasing vertex) so that equal diameters come
// in decreasing cofacet index, which is the filtration's tie order. A list is
// sorted the first time a reduction asks for it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "distance_matrix.hpp"

namespace toposcope {

template <class value_t>
class neighbor_order {
public:
    using vertex_t = std::uint32_t;

    neighbor_order(const dense_distance_matrix<value_t>& dist, value_t threshold)
        : dist_(dist), threshold_(threshold), lists_(dist.size()), built_(dist.size(), 0) {}

    // Neighbours of v within the threshold by increasing distance, ties by decreasing vertex.
    const std::vector<vertex_t>& of(index_t v) {
        if (!built_[v]) build(v);
        return lists_[v];
    }

    // First position in of(v) whose distance is > x (or >= x when inclusive).
    std::size_t first_beyond(index_t v, value_t x, bool inclusive) {
        const std::vector<vertex_t>& list = of(v);
        const value_t* row = dist_.row(v);
        if (inclusive)
            return std::partition_point(list.begin(), list.end(), [&](vertex_t u) { return row[u] < x; }) - list.begin();
        return std::partition_point(list.begin(), list.end(), [&](vertex_t u) { return row[u] <= x; }) - list.begin();
    }

    std::size_t bytes() const { return stored_ * sizeof(vertex_t); }

private:
    struct keyed { value_t distance; vertex_t vertex; };

    void build(index_t v) {
        const value_t* row = dist_.row(v);
        const index_t n = dist_.size();
        scratch_.clear();
        for (index_t u = 0; u < n; ++u)
            if (u != v && row[u] <= threshold_) scratch_.push_back(keyed{row[u], static_cast<vertex_t>(u)});
        std::sort(scratch_.begin(), scratch_.end(), [](const keyed& a, const keyed& b) {
            return a.distance < b.distance || (a.distance == b.distance && a.vertex > b.vertex);
        });
        std::vector<vertex_t>& list = lists_[v];
        list.resize(scratch_.size());
        for (std::size_t k = 0; k < scratch_.size(); ++k) list[k] = scratch_[k].vertex;
        stored_ += list.size();
        built_[v] = 1;
    }

    const dense_distance_matrix<value_t>& dist_;
    value_t threshold_;
    std::vector<std::vector<vertex_t>> lists_;
    std::vector<char> built_;
    std::vector<keyed> scratch_;
    std::size_t stored_ = 0;
};

}  // namespace toposcope
