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

    // The first cofacet of sigma in the filtration when it has sigma's diameter, else index -1.
    entry_t zero_pivot_cofacet(const entry_t& sigma, index_t dim, cofacets_t& cofacets) const {
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
            const value_t* ri = dist_.row(i);
            const value_t* rj = dist_.row(j);
            index_t w = dist_.size() - 1;
            for (; w >= 0; --w)
                if (ri[w] <= d && rj[w] <= d && w != i && w != j) break;
            if (w < 0) return false;
            // Triangle a > b > c; facets in increasing index order: bc, ac, ab.
            index_t a = std::max({i, j, w}), c = std::min({i, j, w}), b = i + j + w - a - c;
            const index_t lo = std::min(i, j), hi = std::max(i, j);
            if (dist_(b, c) == d) return b == hi && c == lo;
            if (dist_(a, c) == d) return a == hi && c == lo;
            return a == hi && b == lo;
        }
    }

    // sigma's partner when (sigma, cofacet) is an apparent pair, else index -1.
    entry_t zero_apparent_cofacet(const entry_t& sigma, index_t dim, cofacets_t& cofacets,
                                  std::vector<index_t>& verts, std::vector<index_t>& facet) const {
        entry_t c = zero_pivot_cofacet(sigma, dim, cofacets);
        if (c.index != -1 && zero_pivot_facet(c, dim + 1, verts, facet).index != sigma.index) c.index = -1;
        return c;
    }

private:
    const Matrix& dist_;
    simplex_codec codec_;
    const prime_field& field_;
    value_t threshold_;
};

}  // namespace toposcope
