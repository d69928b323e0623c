// H1 over Z/2 by a forward sweep that keeps, for every edge, its class in
// H1 of the complex so far (an annotation), after Kapulkin & Kershaw's
// "reduction to zero differentials" (arXiv 2606.06310).
//
// Why: cohomology reduces columns in reverse filtration order, and a class
// that lives long (a torus's two loops) has a cocycle of ~10^4 edges which
// the reduction rebuilds from tens of thousands of column additions. Swept
// forward, the same cocycle grows one edge at a time and is touched only
// when a class it carries dies.
//
// The state is a class_annotation of the edges (class_annotation.hpp): each
// edge's class in H1 of the complex so far, and each alive class's cocycle.
//
// Every triangle has the diameter of its youngest edge x, and is handled
// right after x (in any order among them: they share one diameter). Only
// *active* edges (a non-empty class) contribute to b, and they are few: the
// supports of the alive cocycles. So the triangles at x are of two kinds:
// - one of the other two edges is active: found from the active edges at u
//   and v (a per-vertex registry), each checked against the graph so far;
// - neither is (a lone triangle): then b = class_of[x], and the first such
//   triangle kills the youngest generator of class_of[x] and leaves
//   class_of[x] empty, so the others add nothing.
// Whether there are triangles of either kind is one word-parallel pass over
// adj[u] & adj[v] against the active edges' own bit rows; with no active edge
// at u or v, the lookahead's flag says it. Most edges are born and die at
// once by a lone triangle (the apparent pairs), touching no table.
//
// Z/2 only; no cocycles are reported. Death simplices are those of this
// order, which differs from the cohomology engine's only among simplices of
// equal diameter; the bars and their birth simplices are the same.
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
#include "parallel.hpp"
#include "simplex.hpp"

namespace toposcope {

template <class value_t>
class forward_h1 : public forward_sweep_base<value_t> {
    using base = forward_sweep_base<value_t>;
    using base::n_, base::adjacency_, base::edges_, base::edge_index, base::triangle_index, base::none;
    using rank_t = typename base::rank_t;

public:
    using base::base;   // (matrix, threshold, codec, n_threads, check_interrupt)

    // Sweeps all edges; appends the H1 bars (positive persistence) to out,
    // and returns the minimum spanning forest (Kruskal's, in the same order:
    // the forest h0.hpp's Prim finds) for H0.
    spanning_forest<value_t> run(diagram<value_t>& out, reduction_stats& stats) {
        registry_.assign(n_, {});
        active_ = adjacency_bits(n_);
        classes_.classes().resize(edges_.size());
        stamp_.assign(n_, 0);
        slot_of_.assign(n_, 0);
        out_ = &out;
        auto ahead = this->lookahead();
        for (rank_t x = 0; x < edges_.size(); ++x) {
            this->poll(x, 0x10000);
            const auto& e = edges_[x];
            const std::uint8_t flags = ahead.flags(x);
            if (flags & ahead.closes_cycle) {   // an H1 birth (else a forest edge)
                ++stats.columns;
                add_edge(x, flags & ahead.has_triangle);
            }
            adjacency_.add(e.u, e.v);
        }
        classes_.for_each_generator([&](cell_id g) {
            out.bars.push_back({edges_[g].diameter, infinity<value_t>(), edge_index(rank_t(g)), -1});
        });
        stats.additions = classes_.kills();
        return ahead.take_forest();
    }

private:
    // The triangles (u, v, w) of the graph so far: whether one has (u, w) or
    // (v, w) active, and whether one has neither (a lone triangle), in one
    // word-parallel pass over the common neighbours.
    struct triangle_kinds { bool active, lone; };
    triangle_kinds triangles_at(index_t u, index_t v) const {
        const std::uint64_t *gu = adjacency_.row(u), *gv = adjacency_.row(v);
        const std::uint64_t *au = active_.row(u), *av = active_.row(v);
        std::uint64_t active = 0, lone = 0;
        for (index_t k = 0; k < adjacency_.words(); ++k) {
            const std::uint64_t common = gu[k] & gv[k], either = au[k] | av[k];
            active |= common & either;
            lone |= common & ~either;
        }
        return {active != 0, lone != 0};
    }

    void register_active(rank_t e, cell_slot slot) {
        registry_[edges_[e].u].push_back({edges_[e].v, e, slot});
        registry_[edges_[e].v].push_back({edges_[e].u, e, slot});
        active_.add(edges_[e].u, edges_[e].v);
    }
    void unregister(rank_t e) {
        for (std::uint32_t end : {edges_[e].u, edges_[e].v}) {
            auto& list = registry_[end];
            for (std::size_t k = 0; k < list.size(); ++k)
                if (list[k].rank == e) { list[k] = list.back(); list.pop_back(); break; }
        }
        active_.remove(edges_[e].u, edges_[e].v);
    }

    // The youngest generator of b dies at the triangle (diameter, index).
    void kill(const class_annotation<dense_cell_index>::set_t& b, value_t diameter, index_t triangle) {
        const rank_t j = rank_t(classes_.kill(b, [&](cell_id z, cell_slot) {
            if (rank_t(z) != current_) unregister(rank_t(z));
        }));
        if (edges_[j].diameter < diameter) out_->bars.push_back({edges_[j].diameter, diameter, edge_index(j), triangle});
    }

    // x closes a cycle; has_triangle: some triangle has x as its youngest edge.
    void add_edge(rank_t x, bool has_triangle) {
        const index_t u = edges_[x].u, v = edges_[x].v;
        // With no active edge at either end (1.32 M of the 1.58 M edges of a
        // 2,000-point torus), every triangle at x is lone.
        const triangle_kinds kinds = registry_[u].empty() && registry_[v].empty()
                                         ? triangle_kinds{false, has_triangle}
                                         : triangles_at(u, v);
        // A lone triangle kills x's own class at once (a pair of length
        // zero), so x never has it. With none, x is a new class.
        if (!kinds.lone) classes_.born(x);
        if (kinds.active) {
            gather_active_triangles(u, v);
            current_ = x;
            const value_t diameter = edges_[x].diameter;
            for (const auto& t : triangles_) {
                // b = 0 (no generator in the classes' sum) is an H2 birth.
                const cell_slot parts[3] = {classes_.slot(x), t.first, t.second};
                if (classes_.sum(parts, 3, b_sum_)) kill(b_sum_, diameter, triangle_index(u, v, t.w));
            }
            current_ = none;
        }
        if (classes_.slot(x) != no_slot) register_active(x, classes_.slot(x));
    }

    // The triangles at x = (u, v) with another active edge, one per third
    // vertex w, into triangles_, in the registries' order (w's order, as a
    // bit scan gives them, made the torus's sums 1.45x slower). The active edges
    // at u whose other end meets v (and the reverse) are gathered without
    // branching on the bit test, which goes either way (a third of them
    // meet, on the torus).
    void gather_active_triangles(index_t u, index_t v) {
        const auto &at_u = registry_[u], &at_v = registry_[v];
        if (met_.size() < at_u.size() + at_v.size()) met_.resize(at_u.size() + at_v.size());
        std::size_t met = 0;
        for (const auto& a : at_u) met_[met] = a, met += adjacency_.has(v, a.other);
        const std::size_t met_at_u = met;
        for (const auto& a : at_v) met_[met] = a, met += adjacency_.has(u, a.other);
        ++stamp_value_;
        triangles_.clear();
        for (std::size_t k = 0; k < met_at_u; ++k) {
            const auto& a = met_[k];
            stamp_[a.other] = stamp_value_;
            slot_of_[a.other] = std::uint32_t(triangles_.size());
            triangles_.push_back({a.other, a.slot, no_slot});
        }
        for (std::size_t k = met_at_u; k < met; ++k) {
            const auto& a = met_[k];
            if (stamp_[a.other] == stamp_value_) { triangles_[slot_of_[a.other]].second = a.slot; continue; }
            stamp_[a.other] = stamp_value_;
            triangles_.push_back({a.other, a.slot, no_slot});
        }
    }

    struct neighbor { std::uint32_t other; rank_t rank, slot; };   // an active edge and its class
    struct triangle { std::uint32_t w; rank_t first, second; };   // class slots of active (u, w) / (v, w)

    std::vector<std::vector<neighbor>> registry_; // active edges at each vertex
    adjacency_bits active_{0};                    // the same, as bit rows
    std::vector<neighbor> met_;                   // add_edge's active edges that close a triangle
    class_annotation<dense_cell_index> classes_;
    std::vector<triangle> triangles_;
    std::vector<std::uint32_t> stamp_, slot_of_;
    std::uint32_t stamp_value_ = 0;
    class_annotation<dense_cell_index>::set_t b_sum_;
    rank_t current_ = none;
    diagram<value_t>* out_ = nullptr;
};

}  // namespace toposcope
