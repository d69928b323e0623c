// Implicit (co)boundaries: the cofacets and facets of a simplex are enumerated
// on the fly from its vertices, so the boundary matrix is never stored.
//
// Both coboundary enumerators visit cofacets in decreasing index order and
// attach the incidence coefficient (-1)^k, k = number of vertices below the new
// one. The boundary enumerator uses the same signs, so the coefficient of
// tau in delta(sigma) equals that of sigma in boundary(tau).
#pragma once

#include <vector>

#include "distance_matrix.hpp"
#include "field.hpp"
#include "simplex.hpp"

namespace toposcope {

// Bookkeeping shared by both coboundary enumerators: as the candidate vertex w
// decreases, vertices of the simplex move from "below w" to "above w", which
// shifts their position, and so their binomial term, by one.
class cofacet_index_cursor {
public:
    void reset(index_t idx, const std::vector<index_t>* verts) {
        verts_ = verts;
        idx_below_ = idx;
        idx_above_ = 0;
        k_ = static_cast<index_t>(verts->size());
    }
    // Moves every vertex > w above; returns true when w itself is a vertex.
    bool pass(index_t w, const simplex_codec& codec) {
        while (k_ > 0) {
            index_t v = (*verts_)[verts_->size() - k_];
            if (v < w) return false;
            idx_below_ -= codec.binomial(v, k_);
            idx_above_ += codec.binomial(v, k_ + 1);
            --k_;
            if (v == w) return true;
        }
        return false;
    }
    index_t cofacet(index_t w, const simplex_codec& codec) const {
        return idx_above_ + codec.binomial(w, k_ + 1) + idx_below_;
    }
    index_t below() const { return k_; }
    bool all_below() const { return k_ == static_cast<index_t>(verts_->size()); }

private:
    const std::vector<index_t>* verts_ = nullptr;
    index_t idx_below_ = 0, idx_above_ = 0, k_ = 0;
};

template <class Matrix>
class coboundary_enumerator;

template <class value_t>
class coboundary_enumerator<dense_distance_matrix<value_t>> {
public:
    using matrix_t = dense_distance_matrix<value_t>;
    using entry_t = entry<value_t>;

    coboundary_enumerator(const matrix_t& dist, const simplex_codec& codec, const prime_field& field)
        : dist_(dist), codec_(codec), field_(field) {}

    void set_simplex(const entry_t& simplex, index_t dim) {
        simplex_ = simplex;
        codec_.vertices(simplex.index, dim, verts_);
        cursor_.reset(simplex.index, &verts_);
        w_ = dist_.size() - 1;
    }
    const std::vector<index_t>& vertices() const { return verts_; }

    // all_cofacets == false restricts to cofacets whose new vertex is the largest.
    bool has_next(bool all_cofacets = true) {
        while (w_ >= 0 && cursor_.pass(w_, codec_)) --w_;
        return w_ >= 0 && (all_cofacets || cursor_.all_below());
    }

    // The first cofacet (largest index) with the simplex's own diameter, or index -1.
    entry_t zero_pivot_cofacet(const entry_t& simplex, index_t dim) {
        codec_.vertices(simplex.index, dim, verts_);
        const value_t d = simplex.diameter;
        index_t idx_below = simplex.index, idx_above = 0, k = dim + 1, hi = dist_.size();
        for (index_t seg = 0; seg <= dim + 1; ++seg) {
            const index_t lo = seg <= dim ? verts_[seg] + 1 : 0;
            for (index_t w = hi - 1; w >= lo; --w) {
                bool within = true;
                for (index_t v : verts_) within &= dist_(v, w) <= d;
                if (within)
                    return entry_t{d, idx_above + idx_below + codec_.binomial(w, k + 1),
                                   field_.mul(simplex.coefficient, field_.sign(k))};
            }
            if (seg <= dim) {
                const index_t v = verts_[seg];
                idx_below -= codec_.binomial(v, k);
                idx_above += codec_.binomial(v, k + 1);
                --k;
                hi = v;
            }
        }
        return entry_t{d, -1, 0};
    }
    entry_t next() {
        value_t diameter = simplex_.diameter;
        for (index_t v : verts_) diameter = std::max(diameter, dist_(v, w_));
        entry_t e{diameter, cursor_.cofacet(w_, codec_),
                  field_.mul(simplex_.coefficient, field_.sign(cursor_.below()))};
        --w_;
        return e;
    }

private:
    const matrix_t& dist_;
    const simplex_codec& codec_;
    const prime_field& field_;
    entry_t simplex_{};
    std::vector<index_t> verts_;
    cofacet_index_cursor cursor_;
    index_t w_ = -1;
};

template <class value_t>
class coboundary_enumerator<sparse_distance_matrix<value_t>> {
public:
    using matrix_t = sparse_distance_matrix<value_t>;
    using entry_t = entry<value_t>;
    using neighbor = typename matrix_t::neighbor;

    coboundary_enumerator(const matrix_t& dist, const simplex_codec& codec, const prime_field& field)
        : dist_(dist), codec_(codec), field_(field) {}

    void set_simplex(const entry_t& simplex, index_t dim) {
        simplex_ = simplex;
        codec_.vertices(simplex.index, dim, verts_);
        cursor_.reset(simplex.index, &verts_);
        found_ = false;
        if (dist_.has_bits()) {   // scan the AND of the vertices' bit rows down from the top word
            word_ = dist_.words() - 1;
            mask_ = dist_.common_word(verts_.data(), verts_.size(), word_);
            to_new_.resize(verts_.size());
            return;
        }
        // Walk each vertex's neighbour list downwards; candidates come from the
        // shortest list and must appear in all the others.
        const std::size_t m = verts_.size();
        pos_.resize(m);
        driver_ = 0;
        for (std::size_t t = 0; t < m; ++t) {
            pos_[t] = dist_.end(verts_[t]);
            if (dist_.end(verts_[t]) - dist_.begin(verts_[t]) <
                dist_.end(verts_[driver_]) - dist_.begin(verts_[driver_]))
                driver_ = t;
        }
    }
    const std::vector<index_t>& vertices() const { return verts_; }

    bool has_next(bool all_cofacets = true) {
        if (!found_) found_ = dist_.has_bits() ? advance_bits(all_cofacets ? -1 : verts_.front()) : advance();
        if (!found_) return false;
        if (!all_cofacets && w_ < verts_.front()) return false;
        return true;
    }
    void append_cofacets(const entry_t& simplex, index_t dim, const entry_t* bound, value_t threshold,
                         std::vector<entry_t>& out) {
        set_simplex(simplex, dim);
        while (has_next()) {
            entry_t c = next();
            if (c.diameter <= threshold && !(bound && filtration_less(c, *bound))) out.push_back(c);
        }
    }
    entry_t zero_pivot_cofacet(const entry_t& simplex, index_t dim) {
        set_simplex(simplex, dim);
        while (has_next()) {
            entry_t c = next();
            if (c.diameter == simplex.diameter) return c;
        }
        return entry_t{simplex.diameter, -1, 0};
    }

    // The vertex that the last next() added to the simplex, and its distance
    // to the simplex's t-th vertex (valid until the next has_next()).
    index_t new_vertex() const { return w_; }
    value_t new_vertex_distance(std::size_t t) const {
        if (dist_.has_bits()) return to_new_[t];
        return t == driver_ ? pos_[t]->diameter : (pos_[t] - 1)->diameter;
    }

    entry_t next() {
        if (!found_) has_next();
        found_ = false;
        cursor_.pass(w_, codec_);
        return entry_t{diameter_, cursor_.cofacet(w_, codec_),
                       field_.mul(simplex_.coefficient, field_.sign(cursor_.below()))};
    }

private:
    // Finds the next common neighbour w below the previous one.
    bool advance() {
        const std::size_t m = verts_.size();
        const neighbor* first = dist_.begin(verts_[driver_]);
        while (pos_[driver_] != first) {
            const neighbor& cand = *--pos_[driver_];
            const index_t w = cand.vertex;
            value_t diameter = std::max(simplex_.diameter, cand.diameter);
            bool common = true;
            for (std::size_t t = 0; t < m && common; ++t) {
                if (t == driver_) continue;
                const neighbor* lo = dist_.begin(verts_[t]);
                while (pos_[t] != lo && (pos_[t] - 1)->vertex > w) --pos_[t];
                if (pos_[t] == lo || (pos_[t] - 1)->vertex != w) common = false;
                else diameter = std::max(diameter, (pos_[t] - 1)->diameter);
            }
            if (common) { w_ = w; diameter_ = diameter; return true; }
        }
        return false;
    }

    // The same on the bit rows: the next common neighbour, none at or under
    // `floor` (the scan stops at the word holding it).
    bool advance_bits(index_t floor) {
        while (mask_ == 0) {
            if (word_ == 0 || index_t(word_) * 64 <= floor) return false;
            mask_ = dist_.common_word(verts_.data(), verts_.size(), --word_);
        }
        const int bit = 63 - __builtin_clzll(mask_);
        mask_ &= ~(std::uint64_t(1) << bit);
        w_ = index_t(word_) * 64 + bit;
        diameter_ = simplex_.diameter;
        for (std::size_t t = 0; t < verts_.size(); ++t) {
            to_new_[t] = dist_.neighbor_at(verts_[t], w_).diameter;
            diameter_ = std::max(diameter_, to_new_[t]);
        }
        return true;
    }

    const matrix_t& dist_;
    const simplex_codec& codec_;
    const prime_field& field_;
    entry_t simplex_{};
    std::vector<index_t> verts_;
    std::size_t word_ = 0;                  // bit scan: the current word, and its candidates left
    std::uint64_t mask_ = 0;
    std::vector<value_t> to_new_;           // bit scan: the new vertex's distances to the simplex's
    std::vector<const neighbor*> pos_;
    std::size_t driver_ = 0;
    cofacet_index_cursor cursor_;
    bool found_ = false;
    index_t w_ = -1;
    value_t diameter_{};
};

}  // namespace toposcope
