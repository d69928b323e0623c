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
#pragma once

#include <algorithm>
#include <vector>

#include "types.hpp"

namespace toposcope {

template <class value_t>
struct filtered_edge {
    index_t u, v;
    value_t value;
};

template <class value_t>
class edge_collapser {
public:
    edge_collapser(index_t n, std::vector<filtered_edge<value_t>> edges) : edges_(std::move(edges)), adj_(n) {
        std::sort(edges_.begin(), edges_.end(), [](const auto& a, const auto& b) {
            return a.value < b.value || (a.value == b.value && (a.u < b.u || (a.u == b.u && a.v < b.v)));
        });
        cur_.resize(edges_.size());
        for (std::size_t e = 0; e < edges_.size(); ++e) {
            cur_[e] = edges_[e].value;
            adj_[edges_[e].u].push_back({edges_[e].v, static_cast<index_t>(e)});
            adj_[edges_[e].v].push_back({edges_[e].u, static_cast<index_t>(e)});
        }
        for (auto& a : adj_) std::sort(a.begin(), a.end(), [](const link& x, const link& y) { return x.vertex < y.vertex; });
    }

    // The collapsed filtration: surviving edges with their (possibly later) values.
    // At most `work_per_edge` domination steps per edge on average are spent;
    // edges not reached by then keep their values.
    //
    // When the edges processed so far cost more than `give_up_per_edge` steps
    // each on average (after a warm-up), the collapse is abandoned and
    // abandoned() turns true: neighbourhoods are then so dense (points on a
    // sphere: ~15,000 steps an edge) that it would spend its whole budget to
    // remove a few percent of the edges; where it pays (o3: ~50 steps an edge,
    // 90 % of the edges shifted or dropped) the average stays far below.
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
            if (cur_[e] != infinity<value_t>()) out.push_back({edges_[e].u, edges_[e].v, cur_[e]});
        return out;
    }

    // Whether run() gave up: the input filtration should be used as it is.
    bool abandoned() const { return abandoned_; }

private:
    struct link {
        index_t vertex, edge;
    };

    void collapse_one(std::size_t i, std::size_t max_events) {
        const index_t u = edges_[i].u, v = edges_[i].v;
        const value_t t = cur_[i];
        // Common neighbours in the whole graph, each with the time it joins
        // both ends, in that order: the neighbours present at any time are a prefix.
        common_.clear();
        const auto &au = adj_[u], &av = adj_[v];
        for (std::size_t a = 0, b = 0; a < au.size() && b < av.size();) {
            if (au[a].vertex < av[b].vertex) ++a;
            else if (av[b].vertex < au[a].vertex) ++b;
            else { common_.push_back({au[a].vertex, std::max(cur_[au[a].edge], cur_[av[b].edge])}); ++a; ++b; }
        }
        std::sort(common_.begin(), common_.end(), [](const common_neighbor& x, const common_neighbor& y) {
            return x.entry < y.entry || (x.entry == y.entry && x.vertex < y.vertex);
        });
        std::size_t present = 0;
        while (present < common_.size() && common_[present].entry <= t) ++present;
        if (!dominated(present, t)) return;
        // Candidate times: when a common neighbour joins both ends. Between
        // two of them only edges among the present neighbours appear, which
        // can make the edge dominated but never undo it, so the first time it
        // is not dominated is one of these.
        value_t shifted = infinity<value_t>();
        std::size_t checked = 0;
        while (present < common_.size() && common_[present].entry != infinity<value_t>()) {
            const value_t tau = common_[present].entry;
            while (present < common_.size() && common_[present].entry == tau) ++present;
            if (++checked > max_events || budget_ == 0 || !dominated(present, tau)) { shifted = tau; break; }
        }
        cur_[i] = shifted;
    }

    // Is the edge dominated at time tau, when the first `present` common
    // neighbours are there: is one of them adjacent (by tau) to all the others?
    bool dominated(std::size_t present, value_t tau) {
        for (std::size_t a = 0; a < present; ++a) {
            const auto& aw = adj_[common_[a].vertex];
            bool ok = true;
            for (std::size_t b = 0; b < present && ok; ++b) {
                if (budget_ > 0) --budget_;
                if (b == a) continue;
                const index_t x = common_[b].vertex;
                const auto it = std::lower_bound(aw.begin(), aw.end(), x,
                                                 [](const link& l, index_t y) { return l.vertex < y; });
                ok = it != aw.end() && it->vertex == x && cur_[it->edge] <= tau;
            }
            if (ok) return true;
        }
        return false;
    }

    struct common_neighbor {
        index_t vertex;
        value_t entry;  // when both edges to the ends are present
    };
    std::vector<filtered_edge<value_t>> edges_;
    std::vector<std::vector<link>> adj_;
    std::vector<value_t> cur_;
    std::vector<common_neighbor> common_;
    std::size_t budget_ = 0;  // domination steps left
    bool abandoned_ = false;
};

}  // namespace toposcope
