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
// The state after each simplex, for the alive classes Gen (named by their
// birth edges): class_of[e] is a set of generators, the image of the edge e
// in H1 of the complex so far; boundaries map to zero, every cycle maps to
// its class, and no edge maps to a generator younger than itself. support[g]
// is the transpose: the edges whose class contains g (a cocycle of g).
//
// A triangle t adds b = class_of of its three edges. If b is empty, t is an
// H2 birth and H1 does not change. Otherwise the youngest generator j of b
// dies at t (the elder rule): every edge z in support[j] takes
// class_of[z] ^= b, the other generators of b take support[y] ^= support[j],
// and j is forgotten.
//
// Every triangle has the diameter of its youngest edge x, and is handled
// right after x, in decreasing order of its third vertex w (decreasing
// triangle index, as the cohomology engine orders equal diameters). Only
// *active* edges (a non-empty class) contribute to b, and they are few: the
// supports of the alive cocycles. So the triangles at x are of two kinds:
// - one of the other two edges is active: found from the active edges at u
//   and v (a per-vertex registry), each checked against the graph so far;
// - neither is: then b = class_of[x], and the first such triangle kills the
//   youngest generator of class_of[x] and leaves class_of[x] empty, so the
//   others add nothing. One word-parallel scan of adj[u] & adj[v] finds it.
// Most edges are born and die at once by that second kind (the apparent
// pairs), touching no table.
//
// Z/2 only; no cocycles are reported. Critical simplices are those of this
// order, which differs from the cohomology engine's only among simplices of
// equal diameter; the bars' values are the same.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "distance_matrix.hpp"
#include "h0.hpp"
#include "pairing.hpp"
#include "parallel.hpp"
#include "simplex.hpp"

namespace toposcope {

template <class value_t>
class forward_h1 {
public:
    using rank_t = std::uint32_t;
    static constexpr rank_t none = ~rank_t(0);

    forward_h1(const dense_distance_matrix<value_t>& dist, value_t threshold, const simplex_codec& codec,
               int n_threads, std::function<void()> check_interrupt = {})
        : dist_(dist), codec_(codec), n_(dist.size()), words_((dist.size() + 63) / 64),
          check_interrupt_(std::move(check_interrupt)) {
        collect_edges(threshold, n_threads);
    }

    index_t num_edges() const { return static_cast<index_t>(edges_.size()); }

    // Sweeps all edges; appends the H1 bars (positive persistence) to out,
    // and returns the minimum spanning forest (Kruskal's, in the same order:
    // the forest h0.hpp's Prim finds) for H0.
    spanning_forest<value_t> run(diagram<value_t>& out, reduction_stats& stats) {
        spanning_forest<value_t> forest;
        union_find components(n_);
        adjacency_.assign(std::size_t(n_) * words_, 0);
        registry_.assign(n_, {});
        class_slot_.assign(edges_.size(), none);
        support_slot_.assign(edges_.size(), none);
        out_ = &out;
        for (rank_t x = 0; x < edges_.size(); ++x) {
            if ((x & 0xffff) == 0 && check_interrupt_) check_interrupt_();
            const edge& e = edges_[x];
            const index_t a = components.find(e.u), b = components.find(e.v);
            if (a != b) {
                components.link(a, b);
                forest.edges.push_back({e.diameter, edge_index(x)});
            } else {   // closes a cycle: an H1 birth
                ++stats.columns;
                add_edge(x);
            }
            set_bit(e.u, e.v);
            set_bit(e.v, e.u);
        }
        for (rank_t g = 0; g < edges_.size(); ++g)
            if (support_slot_[g] != none)
                out.bars.push_back({edges_[g].diameter, infinity<value_t>(), edge_index(g), -1});
        stats.additions = kills_;
        return forest;
    }

private:
    struct edge {
        value_t diameter;
        std::uint32_t u, v;   // u > v
    };
    using set_t = std::vector<rank_t>;   // sorted ascending

    // The edges up to the threshold in filtration order (diameter, then
    // decreasing index: types.hpp). A bucket sort: buckets by diameter, a
    // comparison sort inside each (in parallel), ~16 edges a bucket.
    void collect_edges(value_t threshold, int n_threads) {
        index_t count = 0;
        value_t lo = infinity<value_t>(), hi = -infinity<value_t>();
        for (index_t i = 1; i < n_; ++i) {
            const value_t* row = dist_.row(i);
            for (index_t j = 0; j < i; ++j)
                if (row[j] <= threshold) { ++count; lo = std::min(lo, row[j]); hi = std::max(hi, row[j]); }
        }
        if (count == 0) return;
        const std::size_t buckets = std::size_t(std::max<index_t>(1, count / 16));
        const double scale = hi > lo ? double(buckets) / (double(hi) - double(lo)) : 0.0;
        auto bucket_of = [&](value_t d) {
            return std::min(buckets - 1, static_cast<std::size_t>((double(d) - double(lo)) * scale));
        };
        std::vector<rank_t> start(buckets + 1, 0);
        for (index_t i = 1; i < n_; ++i) {
            const value_t* row = dist_.row(i);
            for (index_t j = 0; j < i; ++j)
                if (row[j] <= threshold) ++start[bucket_of(row[j]) + 1];
        }
        for (std::size_t k = 0; k < buckets; ++k) start[k + 1] += start[k];
        edges_.resize(count);
        {
            std::vector<rank_t> next(start.begin(), start.end() - 1);
            for (index_t i = 1; i < n_; ++i) {
                const value_t* row = dist_.row(i);
                for (index_t j = 0; j < i; ++j)
                    if (row[j] <= threshold) edges_[next[bucket_of(row[j])]++] = {row[j], std::uint32_t(i), std::uint32_t(j)};
            }
        }
        const index_t tasks = std::min<index_t>(index_t(buckets), 256);
        parallel_for(tasks, n_threads, [&](index_t t, int) {
            const std::size_t first = buckets * std::size_t(t) / std::size_t(tasks);
            const std::size_t last = buckets * std::size_t(t + 1) / std::size_t(tasks);
            for (std::size_t k = first; k < last; ++k)
                std::sort(edges_.begin() + start[k], edges_.begin() + start[k + 1], [](const edge& a, const edge& b) {
                    if (a.diameter != b.diameter) return a.diameter < b.diameter;
                    return a.u != b.u ? a.u > b.u : a.v > b.v;
                });
        });
    }

    index_t edge_index(rank_t r) const { return codec_.edge_index(edges_[r].u, edges_[r].v); }
    index_t triangle_index(index_t a, index_t b, index_t c) const {
        if (a < b) std::swap(a, b);
        if (b < c) std::swap(b, c);
        if (a < b) std::swap(a, b);
        return codec_.binomial(a, 3) + codec_.binomial(b, 2) + c;
    }

    void set_bit(index_t a, index_t b) { adjacency_[std::size_t(a) * words_ + (b >> 6)] |= std::uint64_t(1) << (b & 63); }
    bool has_bit(index_t a, index_t b) const {
        return (adjacency_[std::size_t(a) * words_ + (b >> 6)] >> (b & 63)) & 1;
    }

    // Largest w with edges (u, w) and (v, w) both in the graph so far and,
    // if skip_candidates, not stamped as a candidate; -1 if none.
    index_t top_common_neighbor(index_t u, index_t v, bool skip_candidates) const {
        const std::uint64_t* a = &adjacency_[std::size_t(u) * words_];
        const std::uint64_t* b = &adjacency_[std::size_t(v) * words_];
        for (index_t k = words_ - 1; k >= 0; --k) {
            std::uint64_t m = a[k] & b[k];
            while (m) {
                const int bit = 63 - __builtin_clzll(m);
                const index_t w = k * 64 + bit;
                if (!skip_candidates || stamp_[w] != stamp_value_) return w;
                m &= ~(std::uint64_t(1) << bit);
            }
        }
        return -1;
    }

    // --- class and support tables (slots in pools, reused) ---
    set_t* class_of(rank_t e) { return class_slot_[e] == none ? nullptr : &class_pool_[class_slot_[e]]; }
    void new_class(rank_t e) {
        const rank_t slot = class_slot_[e] = take_slot(class_pool_, free_class_);
        if (single_.size() < class_pool_.size()) single_.resize(class_pool_.size());
        class_pool_[slot].assign(1, e);
        single_[slot] = e;
    }
    // single_[slot] mirrors a class for the hot loop without reaching its
    // heap block: its generator if it has one, empty_set or several.
    static constexpr rank_t empty_set = none, several = none - 1;
    void sync(rank_t slot) {
        const set_t& c = class_pool_[slot];
        single_[slot] = c.empty() ? empty_set : c.size() == 1 ? c[0] : several;
    }
    void drop_class(rank_t e) {
        single_[class_slot_[e]] = empty_set;
        class_pool_[class_slot_[e]].clear();
        free_class_.push_back(class_slot_[e]);
        class_slot_[e] = none;
    }
    set_t& support(rank_t g) { return support_pool_[support_slot_[g]]; }
    set_t& new_support(rank_t g) {
        const rank_t slot = support_slot_[g] = take_slot(support_pool_, free_support_);
        if (live_.size() < support_pool_.size()) live_.resize(support_pool_.size());
        live_[slot] = 1;
        return support_pool_[slot];
    }
    void drop_support(rank_t g) {
        support_pool_[support_slot_[g]].clear();
        free_support_.push_back(support_slot_[g]);
        support_slot_[g] = none;
    }
    static rank_t take_slot(std::vector<set_t>& pool, std::vector<rank_t>& free) {
        if (!free.empty()) { const rank_t s = free.back(); free.pop_back(); return s; }
        pool.emplace_back();
        return rank_t(pool.size() - 1);
    }

    // Classes are short (mostly one generator): no library call.
    static bool same(const set_t& a, const set_t& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t k = 0; k < a.size(); ++k)
            if (a[k] != b[k]) return false;
        return true;
    }
    static void toggle(set_t& into, const set_t& other, set_t& scratch) {
        scratch.clear();
        std::set_symmetric_difference(into.begin(), into.end(), other.begin(), other.end(), std::back_inserter(scratch));
        into.swap(scratch);
    }

    void register_active(rank_t e) {
        registry_[edges_[e].u].push_back({edges_[e].v, e, class_slot_[e]});
        registry_[edges_[e].v].push_back({edges_[e].u, e, class_slot_[e]});
    }
    void unregister(rank_t e) {
        for (std::uint32_t end : {edges_[e].u, edges_[e].v}) {
            auto& list = registry_[end];
            for (std::size_t k = 0; k < list.size(); ++k)
                if (list[k].rank == e) { list[k] = list.back(); list.pop_back(); break; }
        }
    }

    // The youngest generator of b dies at the triangle (diameter, index).
    void kill(const set_t& b_in, value_t diameter, index_t triangle) {
        ++kills_;
        b_ = b_in;   // b_in may be a class the update below changes
        const rank_t j = b_.back();
        live_support(j, dying_);
        for (rank_t z : dying_) {
            set_t& c = class_pool_[class_slot_[z]];
            // Every generator of b flips in class_of[z]; j leaves it.
            for (std::size_t k = 0; k + 1 < b_.size(); ++k) {
                const rank_t y = b_[k];
                if (std::binary_search(c.begin(), c.end(), y)) --live_[support_slot_[y]];
                else { ++live_[support_slot_[y]]; support(y).push_back(z); }
            }
            toggle(c, b_, scratch_);
            sync(class_slot_[z]);
            if (c.empty()) {
                drop_class(z);
                if (z != current_) unregister(z);
            }
        }
        for (std::size_t k = 0; k + 1 < b_.size(); ++k) compact_if_stale(b_[k]);
        drop_support(j);
        if (edges_[j].diameter < diameter) out_->bars.push_back({edges_[j].diameter, diameter, edge_index(j), triangle});
    }

    // support[g] is appended to only: an edge that leaves the support stays
    // listed (and may be listed again when it comes back) until the list is
    // read or grows to twice its live count. Reading filters and dedupes.
    void live_support(rank_t g, set_t& out) {
        out.clear();
        for (rank_t z : support(g)) {
            const set_t* c = class_of(z);
            if (c && std::binary_search(c->begin(), c->end(), g)) out.push_back(z);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    void compact_if_stale(rank_t g) {
        set_t& list = support(g);
        if (list.size() < 2 * std::size_t(live_[support_slot_[g]]) + 32) return;
        live_support(g, compact_);
        list.swap(compact_);
    }

    void add_edge(rank_t x) {
        const index_t u = edges_[x].u, v = edges_[x].v;
        // Triangles at x with another active edge, one per third vertex w.
        if (stamp_.empty()) { stamp_.assign(n_, 0); slot_of_.assign(n_, 0); }
        ++stamp_value_;
        triangles_.clear();
        for (const auto& a : registry_[u])
            if (has_bit(v, a.other)) {
                stamp_[a.other] = stamp_value_;
                slot_of_[a.other] = std::uint32_t(triangles_.size());
                triangles_.push_back({a.other, a.slot, none});
            }
        for (const auto& a : registry_[v])
            if (has_bit(u, a.other)) {
                if (stamp_[a.other] == stamp_value_) { triangles_[slot_of_[a.other]].second = a.slot; continue; }
                stamp_[a.other] = stamp_value_;
                triangles_.push_back({a.other, a.slot, none});
            }
        // A triangle where x is the only active edge kills x's own class at
        // once (a pair of length zero); after it x is inactive. With none,
        // x is a new class.
        const index_t lone = triangles_.empty() ? top_common_neighbor(u, v, false) : top_common_neighbor(u, v, true);
        if (lone < 0) {
            new_class(x);
            new_support(x).assign(1, x);
        }
        if (!triangles_.empty()) {
            current_ = x;
            const value_t diameter = edges_[x].diameter;
            for (const auto& t : triangles_) {
                // The classes of the triangle's active edges, by slot.
                rank_t parts[3];
                int k = 0;
                if (class_slot_[x] != none) parts[k++] = class_slot_[x];
                if (single_[t.first] != empty_set) parts[k++] = t.first;
                if (t.second != none && single_[t.second] != empty_set) parts[k++] = t.second;
                if (k == 0) continue;
                if (k == 2 && single_[parts[0]] != several && single_[parts[0]] == single_[parts[1]]) continue;   // b = 0
                if (k == 2 && same(class_pool_[parts[0]], class_pool_[parts[1]])) continue;   // b = 0: an H2 birth
                b_sum_ = class_pool_[parts[0]];
                for (int i = 1; i < k; ++i) toggle(b_sum_, class_pool_[parts[i]], scratch_);
                if (!b_sum_.empty()) kill(b_sum_, diameter, triangle_index(u, v, t.w));
            }
            current_ = none;
        }
        if (class_of(x)) register_active(x);
    }

    struct neighbor { std::uint32_t other; rank_t rank, slot; };   // an active edge and its class
    struct triangle { std::uint32_t w; rank_t first, second; };   // class slots of active (u, w) / (v, w)

    const dense_distance_matrix<value_t>& dist_;
    const simplex_codec& codec_;
    index_t n_, words_;
    std::function<void()> check_interrupt_;
    std::vector<edge> edges_;
    std::vector<std::uint64_t> adjacency_;       // the graph of the edges swept so far
    std::vector<std::vector<neighbor>> registry_; // active edges at each vertex
    std::vector<rank_t> class_slot_, support_slot_, free_class_, free_support_;
    std::vector<rank_t> single_;
    std::vector<set_t> class_pool_, support_pool_;   // supports: unsorted, see live_support
    std::vector<index_t> live_;                       // live entries of each support slot
    std::vector<triangle> triangles_;
    std::vector<std::uint32_t> stamp_, slot_of_;
    std::uint32_t stamp_value_ = 0;
    set_t b_, b_sum_, scratch_, dying_, compact_;
    rank_t current_ = none;
    index_t kills_ = 0;
    diagram<value_t>* out_ = nullptr;
};

}  // namespace toposcope
