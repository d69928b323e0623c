// Edge collapse of a flag filtration (Boissonnat & Pritam 2020; the
// shift/trim view of Glisse & Pritam 2022), written from those papers.
//
// An edge uv is dominated in a graph when some common neighbour w of u and v
// is adjacent to every other common neighbour; removing it from the flag
// complex is then a homotopy equivalence. Edges are processed from the last
// to the first. An edge dominated when it appears can be inserted later
// instead ("shifted"), up to the first moment, among the times at which its
// neighbourhood changes, when it is no longer dominated, and dropped if it
// stays dominated to the end ("trimmed"). Each such delay is a level-wise
// homotopy equivalence, so every persistence diagram is unchanged, while
// far fewer edges, and so far fewer triangles and tetrahedra, remain.
// Stopping a delay early is always safe, which bounds the work per edge, and
// so is leaving edges unprocessed, which bounds the total: on graphs where
// almost nothing is dominated (points on a sphere) the domination tests would
// otherwise cost ten times the persistence computation they are meant to save.
//
// Costs (after gudhi's rewrite of the collapser, read for its ideas): neighbour
// lists hold (vertex, time) pairs, times being ranks of the distinct values,
// in one array; a dominator found once is only tested against the neighbours
// that join later, and dropped edges leave the lists. The common neighbour
// that joined first is tried first as the dominator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "parallel.hpp"
#include "types.hpp"

namespace toposcope {

template <class value_t>
class edge_collapser {
public:
    edge_collapser(index_t n, std::vector<filtered_edge<value_t>> edges, int n_threads = 1) : edges_(std::move(edges)) {
        sort_edges(n_threads);
        // Times are ranks among the distinct values: links stay 8 bytes and
        // comparisons (ties included) are those of the values.
        if (edges_.size() >= never || n >= index_t(never)) throw std::length_error("edge_collapser: graph too large");
        time_.resize(edges_.size());
        for (std::size_t e = 0; e < edges_.size(); ++e) {
            if (e == 0 || edges_[e].value != edges_[e - 1].value) values_.push_back(edges_[e].value);
            time_[e] = static_cast<rank_t>(values_.size() - 1);
        }
        // All lists in one array, each sized to its vertex's degree.
        start_.assign(n + 1, 0);
        for (const auto& e : edges_) { ++start_[e.u + 1]; ++start_[e.v + 1]; }
        for (index_t x = 0; x < n; ++x) start_[x + 1] += start_[x];
        size_.assign(n, 0);
        links_.resize(start_[n]);
        for (std::size_t e = 0; e < edges_.size(); ++e) {
            const vertex_t a = vertex_t(edges_[e].u), b = vertex_t(edges_[e].v);
            links_[start_[a] + size_[a]++] = {b, time_[e]};
            links_[start_[b] + size_[b]++] = {a, time_[e]};
        }
        const index_t block = 1024;
        parallel_for((n + block - 1) / block, resolve_threads(n_threads), [&](index_t b, int) {
            for (index_t x = b * block; x < std::min(n, (b + 1) * block); ++x)
                std::sort(list(x), list(x) + size_[x], [](const link& p, const link& q) { return p.vertex < q.vertex; });
        });
    }

    // The collapsed filtration: surviving edges with their (possibly later) values.
    // At most `work_per_edge` domination steps per edge on average are spent;
    // edges not reached by then keep their values.
    //
    // When the edges processed so far cost more than `give_up_per_edge` steps
    // each on average (after a warm-up), the collapse is abandoned and
    // abandoned() turns true: neighbourhoods are then so dense (points on a
    // sphere: 2,000-5,000 steps an edge) that it would spend its whole budget
    // to remove a few percent of the edges; where it pays (o3: 130-230 steps
    // an edge, 70 % of the edges dropped or delayed) the average stays below.
    std::vector<filtered_edge<value_t>> run(std::size_t max_events_per_edge = 4096, std::size_t work_per_edge = 512,
                                            std::size_t give_up_per_edge = 1024) {
        const std::size_t warm_up = std::size_t(1) << 16;
        budget_ = work_per_edge * edges_.size() + warm_up;
        const std::size_t start = budget_;
        std::size_t processed = 0;
        for (std::size_t i = edges_.size(); i-- > 0 && budget_ > 0;) {
            collapse_one(i, max_events_per_edge);
            if (start - budget_ > warm_up + give_up_per_edge * ++processed) {
                abandoned_ = true;
                return {};
            }
        }
        std::vector<filtered_edge<value_t>> out;
        for (std::size_t e = 0; e < edges_.size(); ++e)
            if (time_[e] != never) out.push_back({edges_[e].u, edges_[e].v, values_[time_[e]]});
        return out;
    }

    // Whether run() gave up: the input filtration should be used as it is.
    bool abandoned() const { return abandoned_; }

    // The input edges (sorted by value), handed back: after run() gave up,
    // they are the graph to compute on.
    std::vector<filtered_edge<value_t>> release_edges() { return std::move(edges_); }

private:
    using vertex_t = std::uint32_t;
    using rank_t = std::uint32_t;
    static constexpr rank_t never = std::numeric_limits<rank_t>::max();
    struct link {
        vertex_t vertex;
        rank_t time;  // when the edge to `vertex` appears (after the delays decided so far)
    };
    struct common_neighbor {
        vertex_t vertex;
        rank_t entry;  // when both edges to the ends are present
    };

    void collapse_one(std::size_t i, std::size_t max_events) {
        const vertex_t u = vertex_t(edges_[i].u), v = vertex_t(edges_[i].v);
        rank_t tau = time_[i];
        // Common neighbours: those present at tau (in vertex order, for the
        // merge scans below) and the later ones, each with the time it joins
        // both ends (a min-heap).
        present_.clear();
        later_.clear();
        rank_t first_entry = never;
        first_ = never;
        const link *au = list(u), *av = list(v);
        const std::size_t nu = size_[u], nv = size_[v];
        // Branch-free steps: only a common neighbour branches.
        for (std::size_t a = 0, b = 0; a < nu && b < nv;) {
            const vertex_t x = au[a].vertex, y = av[b].vertex;
            if (x == y) {
                const rank_t entry = std::max(au[a].time, av[b].time);
                if (entry <= tau) {
                    if (entry < first_entry) { first_entry = entry; first_ = x; }
                    present_.push_back(x);
                } else {
                    later_.push_back({x, entry});
                }
            }
            a += x <= y;
            b += y <= x;
        }
        vertex_t dominator;
        if (!find_dominator(tau, dominator)) return;
        // Candidate times: when a common neighbour joins both ends. Between
        // two of them only edges among the present neighbours appear, which
        // can make the edge dominated but never undo it, so the first time it
        // is not dominated is one of these. A dominator stays one as long as
        // it is adjacent to each neighbour that joins; only when it is not is
        // another one searched for.
        const auto later_first = [](const common_neighbor& x, const common_neighbor& y) { return x.entry > y.entry; };
        std::make_heap(later_.begin(), later_.end(), later_first);
        std::size_t events = 0;
        while (true) {
            if (later_.empty()) return remove(i);   // dominated to the end
            tau = later_.front().entry;
            if (++events > max_events || budget_ == 0) return delay(i, tau);   // stopping a delay early is safe
            bool still = true;
            while (!later_.empty() && later_.front().entry == tau) {
                const vertex_t w = later_.front().vertex;
                still = still && adjacent_by(dominator, w, tau);
                present_.insert(std::lower_bound(present_.begin(), present_.end(), w), w);
                std::pop_heap(later_.begin(), later_.end(), later_first);
                later_.pop_back();
            }
            if (!still && !find_dominator(tau, dominator)) return delay(i, tau);
        }
    }

    // A present common neighbour adjacent (by tau) to all the others. The
    // one that joined first is tried first: it is the dominator 90 % of the
    // times one exists (clifford_50000).
    bool find_dominator(rank_t tau, vertex_t& dominator) {
        if (first_ != never && dominates(first_, tau)) { dominator = first_; return true; }
        for (const vertex_t c : present_)
            if (c != first_ && dominates(c, tau)) { dominator = c; return true; }
        return false;
    }

    // One merge scan of the present neighbours against c's neighbour list
    // (both in vertex order), stopping at the first one missing.
    bool dominates(vertex_t c, rank_t tau) {
        const link* ac = list(c);
        const std::size_t m = size_[c];
        std::size_t k = 0;
        bool ok = true;
        for (const vertex_t w : present_) {
            if (w == c) continue;
            while (k < m && ac[k].vertex < w) ++k;
            if (k == m || ac[k].vertex != w || ac[k].time > tau) { ok = false; break; }
            ++k;
        }
        spend(k + 1);
        return ok;
    }

    bool adjacent_by(vertex_t c, vertex_t w, rank_t tau) {
        const link* l = find(c, w);
        spend(1);
        return l && l->time <= tau;
    }

    link* list(index_t x) { return links_.data() + start_[x]; }

    link* find(vertex_t c, vertex_t w) {
        link* const first = list(c);
        link* const last = first + size_[c];
        link* const it = std::lower_bound(first, last, w, [](const link& l, vertex_t y) { return l.vertex < y; });
        return it != last && it->vertex == w ? it : nullptr;
    }

    // The edge now appears at tau; the scans of earlier edges see it there.
    void delay(std::size_t i, rank_t tau) {
        time_[i] = tau;
        const vertex_t u = vertex_t(edges_[i].u), v = vertex_t(edges_[i].v);
        find(u, v)->time = tau;
        find(v, u)->time = tau;
    }

    // The edge never appears: it leaves both neighbour lists, which shortens
    // every later scan through them.
    void remove(std::size_t i) {
        time_[i] = never;
        const vertex_t u = vertex_t(edges_[i].u), v = vertex_t(edges_[i].v);
        for (const auto [x, y] : {std::pair<vertex_t, vertex_t>{u, v}, {v, u}}) {
            link* const at = find(x, y);
            std::copy(at + 1, list(x) + size_[x], at);
            --size_[x];
        }
    }

    // Edges by value, ties by their ends: a total order, so the result does
    // not depend on the threads (a part each, sorted on its own, then merged).
    void sort_edges(int n_threads) {
        const auto less = [](const filtered_edge<value_t>& a, const filtered_edge<value_t>& b) {
            return a.value < b.value || (a.value == b.value && (a.u < b.u || (a.u == b.u && a.v < b.v)));
        };
        const std::size_t m = edges_.size();
        const int parts = m < (std::size_t(1) << 16) ? 1 : std::max(1, std::min(resolve_threads(n_threads), 8));
        std::vector<std::size_t> cut(parts + 1);
        for (int p = 0; p <= parts; ++p) cut[p] = m * std::size_t(p) / std::size_t(parts);
        parallel_for(parts, parts, [&](index_t p, int) { std::sort(edges_.begin() + cut[p], edges_.begin() + cut[p + 1], less); });
        for (int p = 1; p < parts; ++p) std::inplace_merge(edges_.begin(), edges_.begin() + cut[p], edges_.begin() + cut[p + 1], less);
    }

    void spend(std::size_t steps) { budget_ = budget_ > steps ? budget_ - steps : 0; }

    std::vector<filtered_edge<value_t>> edges_;   // in filtration order
    std::vector<rank_t> time_;                    // each edge's time after the collapse so far
    std::vector<value_t> values_;                 // the distinct values, ascending
    std::vector<index_t> start_;                  // where each vertex's list begins in links_
    std::vector<std::uint32_t> size_;             // its current length (dropped edges leave it)
    std::vector<link> links_;                     // every list, each in vertex order
    vertex_t first_ = never;                      // the common neighbour present first: the likeliest dominator
    std::vector<vertex_t> present_;               // common neighbours present, in vertex order
    std::vector<common_neighbor> later_;          // the others, with the time they join
    std::size_t budget_ = 0;                      // domination steps left
    bool abandoned_ = false;
};

}  // namespace toposcope
