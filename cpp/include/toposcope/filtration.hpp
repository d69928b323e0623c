// The Vietoris-Rips filtration: a simplex's value is the largest distance
// between its vertices (a vertex's value is its birth, 0 unless given).
//
// Simplices of one dimension are totally ordered by (diameter, decreasing
// index); see filtration_less in types.hpp. This file also finds *apparent
// pairs* (Bauer 2021): sigma and tau of equal diameter where tau is the first
// cofacet of sigma and sigma the last facet of tau. They are persistence pairs
// of length zero, known without any reduction.
#pragma once

#include <vector>

#include "coboundary.hpp"
#include "neighbor_order.hpp"

namespace toposcope {

template <class Matrix>
class rips_filtration {
public:
    using matrix_t = Matrix;
    using value_t = decltype(std::declval<Matrix>()(0, 1));
    using entry_t = entry<value_t>;
    using cofacets_t = coboundary_enumerator<Matrix>;

    rips_filtration(const Matrix& dist, index_t max_dim, value_t threshold, const prime_field& field)
        : dist_(dist), codec_(dist.size(), max_dim + 1), field_(field), threshold_(threshold) {}

    const Matrix& distances() const { return dist_; }
    const simplex_codec& codec() const { return codec_; }
    const prime_field& field() const { return field_; }
    value_t threshold() const { return threshold_; }
    index_t size() const { return dist_.size(); }
    cofacets_t make_cofacets() const { return cofacets_t(dist_, codec_, field_); }

    value_t diameter_of(const std::vector<index_t>& verts) const {
        if (verts.size() == 1) return dist_.vertex_birth(verts[0]);
        value_t d = -infinity<value_t>();  // filtration values may be negative (lower-star)
        for (std::size_t a = 0; a < verts.size(); ++a)
            for (std::size_t b = a + 1; b < verts.size(); ++b) d = std::max(d, dist_(verts[a], verts[b]));
        return d;
    }

    // Calls f(facet) for each facet of simplex (dimension dim >= 1) in
    // increasing index order, until f returns true. Scratch vectors are passed
    // in so that hot loops do not allocate.
    template <class F>
    void for_each_facet(const entry_t& simplex, index_t dim, std::vector<index_t>& verts,
                        std::vector<index_t>& facet, F&& f) const {
        codec_.vertices(simplex.index, dim, verts);
        facet.resize(dim);
        for (index_t t = 0; t <= dim; ++t) {  // remove verts[t]; t = 0 is the largest vertex
            index_t idx = 0;
            for (index_t s = 0, p = 0; s <= dim; ++s) {
                if (s == t) continue;
                facet[p] = verts[s];
                idx += codec_.binomial(verts[s], dim - p);
                ++p;
            }
            entry_t e{diameter_of(facet), idx, field_.mul(simplex.coefficient, field_.sign(dim - t))};
            if (f(e)) return;
        }
    }

    // The last facet of tau in the filtration when it has tau's diameter, else index -1.
    entry_t zero_pivot_facet(const entry_t& tau, index_t dim, std::vector<index_t>& verts,
                             std::vector<index_t>& facet) const {
        entry_t found{value_t(0), -1, 0};
        for_each_facet(tau, dim, verts, facet, [&](const entry_t& e) {
            if (e.diameter == tau.diameter) { found = e; return true; }
            return false;
        });
        return found;
    }

    // Short neighbour lists that speed up the edge scans below (dense input only).
    void use_nearest(const nearest_neighbors<value_t>* near) { near_ = near; }

    // The first cofacet of sigma in the filtration when it has sigma's diameter, else index -1.
    entry_t zero_pivot_cofacet(const entry_t& sigma, index_t dim, cofacets_t& cofacets) const {
        if constexpr (!Matrix::is_sparse) {
            if (dim == 1) {
                const index_t i = codec_.max_vertex(sigma.index, 2, size()), j = sigma.index - codec_.binomial(i, 2);
                const index_t w = largest_common_neighbor(i, j, sigma.diameter);
                if (w < 0) return entry_t{sigma.diameter, -1, 0};
                const index_t a = std::max(w, i), c = std::min(w, j), b = i + j + w - a - c;
                const index_t below = (w > i) + (w > j);  // vertices of sigma below w: the sign
                return entry_t{sigma.diameter, codec_.binomial(a, 3) + codec_.binomial(b, 2) + c,
                               field_.mul(sigma.coefficient, field_.sign(below))};
            }
        }
        return cofacets.zero_pivot_cofacet(sigma, dim);
    }

    // tau's partner when (facet, tau) is an apparent pair, else index -1.
    entry_t zero_apparent_facet(const entry_t& tau, index_t dim, cofacets_t& cofacets,
                                std::vector<index_t>& verts, std::vector<index_t>& facet) const {
        entry_t f = zero_pivot_facet(tau, dim, verts, facet);
        if (f.index != -1 && zero_pivot_cofacet(f, dim - 1, cofacets).index != tau.index) f.index = -1;
        return f;
    }

    // Whether edge {i, j} (i != j) of length d is the lower half of an apparent
    // pair. On dense input this reads two rows directly: the candidate is the
    // largest w within d of both ends, and the edge must be the triangle's
    // first facet (in index order) of length d.
    bool edge_has_apparent_cofacet(index_t i, index_t j, value_t d, cofacets_t& cofacets, std::vector<index_t>& verts,
                                   std::vector<index_t>& facet) const {
        if constexpr (Matrix::is_sparse) {
            const entry_t e{d, codec_.edge_index(i, j), 1};
            return zero_apparent_cofacet(e, 1, cofacets, verts, facet).index != -1;
        } else {
            const index_t w = largest_common_neighbor(i, j, d);
            if (w < 0) return false;
            // No other facet of the triangle of length d may come first in
            // index order (larger vertex, then smaller). Their lengths are
            // read from rows i and w, which the search has just read: row j
            // at column i would be a cache miss on every edge of a row scan.
            auto first = [](index_t x1, index_t y1, index_t x2, index_t y2) {
                const index_t hi1 = std::max(x1, y1), hi2 = std::max(x2, y2);
                return hi1 < hi2 || (hi1 == hi2 && std::min(x1, y1) < std::min(x2, y2));
            };
            return !(dist_(i, w) == d && first(i, w, i, j)) && !(dist_(w, j) == d && first(j, w, i, j));
        }
    }

    // sigma's partner when (sigma, cofacet) is an apparent pair, else index -1.
    entry_t zero_apparent_cofacet(const entry_t& sigma, index_t dim, cofacets_t& cofacets,
                                  std::vector<index_t>& verts, std::vector<index_t>& facet) const {
        entry_t c = zero_pivot_cofacet(sigma, dim, cofacets);
        if (c.index != -1 && zero_pivot_facet(c, dim + 1, verts, facet).index != sigma.index) c.index = -1;
        return c;
    }

    // Vertex-list forms of the apparent-pair tests, for dense input where the
    // vertices are known already (decoding an index costs a cube root per
    // vertex, and H2 tests millions of triangles). `verts` are decreasing.

    // The position of the vertex whose removal leaves tau's last facet of
    // diameter d (tau's own), or -1: zero_pivot_facet without indices.
    index_t zero_pivot_facet_position(const index_t* verts, index_t dim, value_t d) const {
        for (index_t t = 0; t <= dim; ++t)
            for (index_t a = 0; a <= dim; ++a) {
                if (a == t) continue;
                for (index_t b = a + 1; b <= dim; ++b)
                    if (b != t && dist_(verts[a], verts[b]) == d) return t;
            }
        return -1;
    }

    // The largest vertex w outside sigma within d of all its vertices, or -1:
    // the new vertex of sigma's first cofacet of diameter d.
    index_t first_cofacet_vertex(const index_t* verts, index_t dim, value_t d) const {
        if (dim == 1) return largest_common_neighbor(verts[0], verts[1], d);  // with the short lists
        const value_t* first = dist_.row(verts[0]);
        for (index_t w = dist_.size() - 1; w >= 0; --w) {
            if (first[w] > d) continue;
            bool within = true;
            for (index_t a = 1; a <= dim && within; ++a) within = dist_(w, verts[a]) <= d;
            if (!within) continue;
            bool own = false;
            for (index_t a = 0; a <= dim; ++a) own |= verts[a] == w;
            if (!own) return w;
        }
        return -1;
    }

    // Whether sigma (vertices verts, diameter d) is either half of an apparent
    // pair. scratch holds dim + 2 vertices. Dense input: reads rows.
    bool in_apparent_pair(const index_t* verts, index_t dim, value_t d, index_t* scratch) const {
        // Upper half: sigma is the first cofacet of its last facet f, i.e. no
        // vertex above the one removed fits on f.
        const index_t p = dim >= 1 ? zero_pivot_facet_position(verts, dim, d) : -1;
        if (p >= 0) {
            index_t k = 0;
            for (index_t a = 0; a <= dim; ++a)
                if (a != p) scratch[k++] = verts[a];
            if (first_cofacet_vertex(scratch, dim - 1, d) == verts[p]) return true;
        }
        // Lower half: sigma is the last facet of its first cofacet.
        const index_t w = first_cofacet_vertex(verts, dim, d);
        if (w < 0) return false;
        index_t k = 0, at = -1;
        for (index_t a = 0; a <= dim; ++a) {
            if (at < 0 && w > verts[a]) scratch[at = k++] = w;
            scratch[k++] = verts[a];
        }
        if (at < 0) scratch[at = k++] = w;
        return zero_pivot_facet_position(scratch, dim + 1, d) == at;
    }

    // The most vertices in_apparent_pair takes on sparse input (dim + 2).
    static constexpr index_t max_sparse_apparent_vertices = 8;

    // The same on neighbour lists (sparse input): `table` holds sigma's
    // pairwise distances (row-major, stride max_sparse_apparent_vertices), and
    // the first cofacet's new vertex is found by walking the lists down from
    // the top. `first_of_top_facet`, when given, says whether sigma is the
    // first cofacet of diameter d of the facet without verts[0] (the caller
    // enumerates that facet's cofacets): when that facet is the last one, the
    // upper half needs no walk.
    bool in_apparent_pair(const index_t* verts, index_t dim, value_t d, index_t* scratch, const value_t* table,
                          const bool* first_of_top_facet = nullptr) const {
        constexpr index_t K = max_sparse_apparent_vertices;
        const index_t k = dim + 1;
        // Upper half: sigma is the first cofacet of its last facet f.
        const index_t p = dim >= 1 ? pivot_facet_position(table, k, d) : -1;
        if (p == 0 && first_of_top_facet) {
            if (*first_of_top_facet) return true;
        } else if (p >= 0) {
            index_t m = 0;
            for (index_t a = 0; a < k; ++a)
                if (a != p) scratch[m++] = verts[a];
            if (common_neighbor_on_lists(scratch, k - 1, d, nullptr) == verts[p]) return true;
        }
        // Lower half: sigma is the last facet of its first cofacet.
        value_t to_w[K];
        const index_t w = common_neighbor_on_lists(verts, k, d, to_w);
        if (w < 0) return false;
        // The cofacet's vertices in decreasing order, and its distance table.
        index_t at = 0;
        while (at < k && verts[at] > w) ++at;
        index_t order[K];   // position in the cofacet -> position in sigma, or -1 for w
        for (index_t a = 0, src = 0; a <= k; ++a) order[a] = a == at ? -1 : src++;
        value_t full[K * K];
        for (index_t a = 0; a <= k; ++a)
            for (index_t b = a + 1; b <= k; ++b) {
                const index_t x = order[a], y = order[b];
                const value_t v = x < 0 ? to_w[y] : y < 0 ? to_w[x] : table[x * K + y];
                full[a * K + b] = full[b * K + a] = v;
            }
        return pivot_facet_position(full, k + 1, d) == at;
    }

private:
    // zero_pivot_facet_position on a distance table of k vertices (stride max_sparse_apparent_vertices).
    static index_t pivot_facet_position(const value_t* table, index_t k, value_t d) {
        constexpr index_t K = max_sparse_apparent_vertices;
        for (index_t t = 0; t < k; ++t)
            for (index_t a = 0; a < k; ++a) {
                if (a == t) continue;
                for (index_t b = a + 1; b < k; ++b)
                    if (b != t && table[a * K + b] == d) return t;
            }
        return -1;
    }

    // The largest vertex within d of all k vertices (none of them), or -1,
    // walking their neighbour lists down from the top, led by the shortest;
    // its distances to them go to `to` when asked.
    index_t common_neighbor_on_lists(const index_t* verts, index_t k, value_t d, value_t* to) const {
        if (dist_.has_bits()) return common_neighbor_on_bits(verts, k, d, to);
        using neighbor = typename Matrix::neighbor;
        constexpr index_t K = max_sparse_apparent_vertices;
        const neighbor* pos[K];
        index_t lead = 0;
        for (index_t a = 0; a < k; ++a) {
            pos[a] = dist_.end(verts[a]);
            if (dist_.end(verts[a]) - dist_.begin(verts[a]) < dist_.end(verts[lead]) - dist_.begin(verts[lead]))
                lead = a;
        }
        const neighbor* first = dist_.begin(verts[lead]);
        while (pos[lead] != first) {
            const neighbor& cand = *--pos[lead];
            if (cand.diameter > d) continue;
            const index_t w = cand.vertex;
            bool common = true;
            for (index_t a = 0; a < k && common; ++a) {
                if (a == lead) continue;
                const neighbor* lo = dist_.begin(verts[a]);
                while (pos[a] != lo && (pos[a] - 1)->vertex > w) --pos[a];
                common = pos[a] != lo && (pos[a] - 1)->vertex == w && (pos[a] - 1)->diameter <= d;
            }
            if (!common) continue;
            if (to)
                for (index_t a = 0; a < k; ++a) to[a] = a == lead ? cand.diameter : (pos[a] - 1)->diameter;
            return w;
        }
        return -1;
    }

    // The same from the AND of the vertices' bit rows, scanned down from the top.
    index_t common_neighbor_on_bits(const index_t* verts, index_t k, value_t d, value_t* to) const {
        constexpr index_t K = max_sparse_apparent_vertices;
        for (std::size_t word = dist_.words(); word-- > 0;) {
            for (std::uint64_t m = dist_.common_word(verts, std::size_t(k), word); m;) {
                const int bit = 63 - __builtin_clzll(m);
                m &= ~(std::uint64_t(1) << bit);
                const index_t w = index_t(word) * 64 + bit;
                value_t at[K];
                bool within = true;
                for (index_t a = 0; a < k && within; ++a) within = (at[a] = dist_.neighbor_at(verts[a], w).diameter) <= d;
                if (!within) continue;
                if (to) std::copy(at, at + k, to);
                return w;
            }
        }
        return -1;
    }

    // The largest w other than i and j within d of both, or -1: from a short
    // neighbour list when one holds every candidate, else by scanning rows.
    index_t largest_common_neighbor(index_t i, index_t j, value_t d) const {
        if constexpr (!Matrix::is_sparse) {
            if (near_) {
                for (index_t x : {i, j}) {
                    if (!near_->covers(x, d)) continue;
                    const index_t y = i + j - x;
                    const value_t *rx = dist_.row(x), *ry = dist_.row(y);
                    index_t best = -1;
                    for (const auto* p = near_->begin(x); p != near_->end(x) && rx[*p] <= d; ++p)
                        if (index_t(*p) != y && ry[*p] <= d) best = std::max<index_t>(best, *p);
                    return best;
                }
            }
            return last_common_neighbor(i, j, d);
        }
        return -1;
    }

    // The largest w other than i and j within d of both, scanning down from
    // the last vertex. d(j, w) is read as d(w, j): a scan over all j for one i
    // then keeps reading the same few rows w near the top, which stay in
    // cache, where row j's tail would be a cache miss per edge.
    index_t last_common_neighbor(index_t i, index_t j, value_t d) const {
        const value_t* ri = dist_.row(i);
        for (index_t w = dist_.size() - 1; w >= 0; --w)
            if (ri[w] <= d && dist_(w, j) <= d && w != i && w != j) return w;
        return -1;
    }

    const Matrix& dist_;
    simplex_codec codec_;
    const prime_field& field_;
    value_t threshold_;
    const nearest_neighbors<value_t>* near_ = nullptr;
};

}  // namespace toposcope
