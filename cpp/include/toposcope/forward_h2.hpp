// H1 and H2 over Z/2 by a forward sweep (the H1-only sweep is
// forward_h1.hpp; the state is class_annotation.hpp's).
//
// Edges go in filtration order; after each edge x = (u, v), every triangle
// whose youngest edge is x, in decreasing order of its third vertex w (its
// index order among equal diameters). Each triangle either kills an H1 class
// (its edges' classes sum to b != 0) or is born in H2. The tetrahedra are
// never listed: one whose youngest facet is the newborn triangle t is handled
// right after t, and only two kinds can change anything:
// - one of its other facets is an active triangle: those are found from the
//   active triangles registered at t's three edges, each checked against the
//   graph so far;
// - none is: then b = class_of[t], and the first such tetrahedron kills t's
//   own class (a pair of length zero), so the rest add nothing. One
//   word-parallel scan of adj[u] & adj[v] & adj[w] finds it.
// A tetrahedron t + z has t as its youngest facet when z is a neighbour of
// u, v and w in the graph so far and z > w (so that the facet (u, v, z) came
// before t at x).
//
// Z/2 only; no cocycles. Triangles are named by their position in the sweep;
// only active ones are stored (hash map), edges by their rank.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "class_annotation.hpp"
#include "distance_matrix.hpp"
#include "edge_sweep.hpp"
#include "h0.hpp"
#include "pairing.hpp"
#include "simplex.hpp"

namespace toposcope {

template <class value_t>
class forward_h2 : public forward_sweep_base<value_t> {
    using base = forward_sweep_base<value_t>;
    using base::n_, base::adjacency_, base::edges_, base::edge_index, base::triangle_index,
        base::tetrahedron_index, base::none;
    using rank_t = typename base::rank_t;

public:
    using base::base;   // (matrix, threshold, codec, n_threads, check_interrupt)

    // Sweeps all edges and triangles; appends the bars of H1 and H2 to h1 and
    // h2 and returns the minimum spanning forest (Kruskal's) for H0.
    spanning_forest<value_t> run(diagram<value_t>& h1, diagram<value_t>& h2, reduction_stats& s1,
                                 reduction_stats& s2) {
        auto ahead = this->lookahead();   // the forest edges
        edge_rank_.assign(std::size_t(n_) * n_, none);
        registry_.assign(edges_.size(), {});
        edges1_.classes().resize(edges_.size());
        stamp_.assign(n_, 0);
        slot_of_.assign(n_, 0);
        h1_ = &h1;
        h2_ = &h2;
        for (rank_t x = 0; x < edges_.size(); ++x) {
            this->poll(x, 0x4000);
            const auto& e = edges_[x];
            if (ahead.flags(x) & ahead.closes_cycle) {   // an H1 birth (else a forest edge)
                ++s1.columns;
                edges1_.born(x);
            }
            sweep_triangles(x, s2);
            edge_rank_[std::size_t(e.u) * n_ + e.v] = edge_rank_[std::size_t(e.v) * n_ + e.u] = x;
            adjacency_.add(e.u, e.v);
        }
        edges1_.for_each_generator([&](cell_id g) {
            h1.bars.push_back({edges_[g].diameter, infinity<value_t>(), edge_index(rank_t(g)), -1});
        });
        triangles2_.for_each_generator([&](cell_id g) {
            const auto& t = meta_[triangles2_.slot(g)];
            h2.bars.push_back({edges_[t.x].diameter, infinity<value_t>(), triangle_index(t), -1});
        });
        s1.additions = edges1_.kills();
        s2.additions = triangles2_.kills();
        return ahead.take_forest();
    }

private:
    struct triangle_meta { std::uint32_t u, v, w; rank_t x; };   // vertices, youngest edge
    struct registered { std::uint32_t z; cell_slot slot; };      // an active triangle: edge + z
    struct tetrahedron { std::uint32_t z; cell_slot facets[3]; };

    rank_t rank_of(index_t a, index_t b) const { return edge_rank_[std::size_t(a) * n_ + b]; }
    index_t triangle_index(const triangle_meta& t) const { return triangle_index(t.u, t.v, t.w); }

    // The triangles whose youngest edge is x, in decreasing order of w.
    void sweep_triangles(rank_t x, reduction_stats& s2) {
        const index_t u = edges_[x].u, v = edges_[x].v;
        const std::uint64_t* a = adjacency_.row(u);
        const std::uint64_t* b = adjacency_.row(v);
        const value_t diameter = edges_[x].diameter;
        for (index_t k = adjacency_.words() - 1; k >= 0; --k) {
            std::uint64_t m = a[k] & b[k];
            while (m) {
                const int bit = 63 - __builtin_clzll(m);
                m &= ~(std::uint64_t(1) << bit);
                const index_t w = k * 64 + bit;
                const cell_id t = next_triangle_++;
                const cell_slot parts[3] = {edges1_.slot(x), edges1_.slot(rank_of(u, w)), edges1_.slot(rank_of(v, w))};
                if (edges1_.sum(parts, 3, b_)) {   // kills an H1 class
                    const rank_t j = rank_t(edges1_.kill(b_, [](cell_id, cell_slot) {}));
                    if (edges_[j].diameter < diameter)
                        h1_->bars.push_back({edges_[j].diameter, diameter, edge_index(j),
                                             triangle_index(u, v, w)});
                    continue;
                }
                ++s2.columns;
                add_triangle(t, {std::uint32_t(u), std::uint32_t(v), std::uint32_t(w), x});
            }
        }
    }

    // Largest z > w adjacent to u, v and w in the graph so far, skipping the
    // stamped candidates if asked; -1 if none.
    index_t top_common_neighbor(index_t u, index_t v, index_t w, bool skip_candidates) const {
        const std::uint64_t *a = adjacency_.row(u), *b = adjacency_.row(v), *c = adjacency_.row(w);
        for (index_t k = adjacency_.words() - 1; k >= (w >> 6); --k) {
            std::uint64_t m = a[k] & b[k] & c[k];
            while (m) {
                const int bit = 63 - __builtin_clzll(m);
                const index_t z = k * 64 + bit;
                if (z <= w) return -1;
                if (!skip_candidates || stamp_[z] != stamp_value_) return z;
                m &= ~(std::uint64_t(1) << bit);
            }
        }
        return -1;
    }

    // Tetrahedra t + z with another active facet: the active triangles
    // registered at the edge `at` whose third vertex z lies above w and meets
    // `need` (t's vertex off that edge); their slot fills facets[facet].
    void collect(rank_t at, index_t need, index_t w, int facet) {
        for (const auto& r : registry_[at]) {
            if (r.z <= w || !adjacency_.has(need, r.z)) continue;
            if (stamp_[r.z] != stamp_value_) {
                stamp_[r.z] = stamp_value_;
                slot_of_[r.z] = std::uint32_t(tetrahedra_.size());
                tetrahedra_.push_back({r.z, {no_slot, no_slot, no_slot}});
            }
            tetrahedra_[slot_of_[r.z]].facets[facet] = r.slot;
        }
    }

    void add_triangle(cell_id t, const triangle_meta& m) {
        const index_t u = m.u, v = m.v, w = m.w;
        ++stamp_value_;
        tetrahedra_.clear();
        collect(m.x, w, w, 0);               // (u, v, z): z must meet w
        collect(rank_of(u, w), v, w, 1);     // (u, w, z): z must meet v
        collect(rank_of(v, w), u, w, 2);     // (v, w, z): z must meet u
        const index_t lone = top_common_neighbor(u, v, w, !tetrahedra_.empty());
        if (lone >= 0 && tetrahedra_.empty()) return;   // born and killed at once
        if (lone < 0) {
            const cell_slot s = triangles2_.born(t);
            if (meta_.size() <= s) meta_.resize(s + 1);
            meta_[s] = m;
        }
        current_ = t;
        const value_t diameter = edges_[m.x].diameter;
        for (const auto& tet : tetrahedra_) {
            const cell_slot parts[4] = {triangles2_.slot(t), tet.facets[0], tet.facets[1], tet.facets[2]};
            if (!triangles2_.sum(parts, 4, b_)) continue;
            const cell_id j = b_.back();
            const triangle_meta born = meta_[triangles2_.slot(j)];
            triangles2_.kill(b_, [&](cell_id z, cell_slot s) { if (z != current_) unregister(meta_[s], s); });
            if (edges_[born.x].diameter < diameter)
                h2_->bars.push_back({edges_[born.x].diameter, diameter, triangle_index(born),
                                     tetrahedron_index(u, v, w, tet.z)});
        }
        current_ = ~cell_id(0);
        const cell_slot s = triangles2_.slot(t);
        if (s != no_slot) {
            registry_[m.x].push_back({std::uint32_t(w), s});
            registry_[rank_of(u, w)].push_back({std::uint32_t(v), s});
            registry_[rank_of(v, w)].push_back({std::uint32_t(u), s});
        }
    }

    void unregister(const triangle_meta& m, cell_slot s) {
        const rank_t at[3] = {m.x, rank_of(m.u, m.w), rank_of(m.v, m.w)};
        for (rank_t e : at) {
            auto& list = registry_[e];
            for (std::size_t k = 0; k < list.size(); ++k)
                if (list[k].slot == s) { list[k] = list.back(); list.pop_back(); break; }
        }
    }

    std::vector<rank_t> edge_rank_;                   // n x n: rank of each swept edge
    class_annotation<dense_cell_index> edges1_;       // edge classes in H1
    class_annotation<sparse_cell_index> triangles2_;  // triangle classes in H2
    std::vector<triangle_meta> meta_;                 // by H2 class slot
    std::vector<std::vector<registered>> registry_;   // active triangles at each edge
    std::vector<tetrahedron> tetrahedra_;
    std::vector<std::uint32_t> stamp_, slot_of_;
    std::uint32_t stamp_value_ = 0;
    cell_id next_triangle_ = 0, current_ = ~cell_id(0);
    class_annotation<dense_cell_index>::set_t b_;
    diagram<value_t>* h1_ = nullptr;
    diagram<value_t>* h2_ = nullptr;
};

}  // namespace toposcope
