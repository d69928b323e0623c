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
// that joined first is tried first as the dominator. Where the graph is dense
// enough (n^2 / 4 bytes at most twice the lists, and at most 64 MB), two bit
// matrices stand beside the lists: the links not dropped, whose AND lists
// common neighbours (a neighbour's place in a list, and so its time, is a
// count of bits), and the links present at the time of the edge in process,
// against which a domination test costs one bit per neighbour instead of a
// merge scan.
//
// Two threads, same result: edges go in waves of consecutive edges whose
// neighbour-list reads and writes do not meet (an edge reads the lists of its
// ends and of its common neighbours, and writes its ends'), so that within a
// wave the order does not matter. Listing common neighbours (half the work)
// runs ahead, in parallel, and a listing stays valid until a wave writes one
// of its ends' lists; then the wave's decisions run in parallel. Waves are
// the same whatever the threads, and each edge of a wave sees the budget as
// the wave began, so the output never depends on the thread count. Whether
// the second thread runs at all is timed as the collapse goes (lane_chooser
// in parallel.hpp): where the cores pass cache lines slowly it costs more
// than it gives.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "parallel.hpp"
#include "prefetch.hpp"
#include "types.hpp"

namespace toposcope {

template <class value_t>
class edge_collapser {
public:
    edge_collapser(index_t n, std::vector<filtered_edge<value_t>> edges, int n_threads = 1)
        : edges_(std::move(edges)), threads_(std::min(2, resolve_threads(n_threads))) {
        sort_edges(n_threads);
        // Times are ranks among the distinct values: links stay 8 bytes and
        // comparisons (ties included) are those of the values.
        if (edges_.size() >= never || n >= index_t(never)) throw std::length_error("edge_collapser: graph too large");
        time_.resize(edges_.size());
        values_.reserve(edges_.size());   // nearly all distinct on point clouds: no regrowth, no spare half
        for (std::size_t e = 0; e < edges_.size(); ++e) {
            if (e == 0 || edges_[e].value != edges_[e - 1].value) values_.push_back(edges_[e].value);
            time_[e] = static_cast<rank_t>(values_.size() - 1);
        }
        // All lists in one array, each sized to its vertex's degree.
        start_.assign(n + 1, 0);
        for (const auto& e : edges_) { ++start_[e.u + 1]; ++start_[e.v + 1]; }
        for (index_t x = 0; x < n; ++x) start_[x + 1] += start_[x];
        size_.assign(n, 0);
        in_wave_.assign(n, 0);
        links_.resize(start_[n]);
        for (std::size_t e = 0; e < edges_.size(); ++e) {
            const vertex_t a = vertex_t(edges_[e].u), b = vertex_t(edges_[e].v);
            links_[start_[a] + size_[a]++] = {b, time_[e]};
            links_[start_[b] + size_[b]++] = {a, time_[e]};
        }
        // Adjacency bits where the two bit matrices cost at most twice the
        // lists (an average degree of n / 64 or more: o3_4096 has 114) and
        // at most 64 MB (n up to 16,384): the callers' memory estimates
        // count the lists, not the bits.
        const std::size_t words = (std::size_t(n) + 63) / 64;
        const std::size_t bit_bytes = 2 * std::size_t(n) * words * sizeof(std::uint64_t);
        if (bit_bytes <= 2 * links_.size() * sizeof(link) && bit_bytes <= (std::size_t(64) << 20)) {
            words_ = words;
            present_.assign(std::size_t(n) * words, 0);
            for (const auto& e : edges_) set_link(present_, vertex_t(e.u), vertex_t(e.v), true);
            alive_ = present_;
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
        std::size_t budget = work_per_edge * edges_.size() + warm_up;
        const std::size_t start = budget;
        std::size_t processed = 0, next = edges_.size();
        // Below 2^16 edges (0.03 s on one thread) the waves are too short for
        // the second lane to pay its synchronisation: measured on o3_1024
        // (33,000 edges), two lanes took 0.017-0.065 s against 0.020 s.
        const bool two = threads_ > 1 && edges_.size() >= (std::size_t(1) << 16);
        lane_pair lanes(two);
        lane_chooser chooser(std::size_t(1) << 14);   // ~10 ms an item count on clifford_50000
        lanes.set_two_lanes(false);
        if (!words_)
            for (int t = 0; t < (two ? 2 : 1); ++t) {   // the helper's only where there is one
                scratch_[t].marks.assign(size_.size(), 0);
                scratch_[t].present.assign(size_.size(), 0);
            }
        // queue[c]: the lane for edge next - 1 - c, listed or not yet; the
        // queue always holds the lanes 0 .. size - 1 in some order.
        std::vector<std::size_t> queue, to_list;
        while (next > 0 && budget > 0) {
            // A wave: the next edges, in processing order, as long as none
            // reads a neighbour list that an earlier one of the wave writes
            // (its ends') or writes one that an earlier one reads. Edges of a
            // wave then see exactly what they would see one after the other,
            // so they are collapsed in parallel with the sequential result.
            const std::size_t k = std::min(next, batch_);
            while (queue.size() < k) {   // a new lane, not listed yet
                queue.push_back(lanes_.size());
                lanes_.emplace_back();
            }
            to_list.clear();
            for (std::size_t c = 0; c < k; ++c)
                if (!lanes_[queue[c]].listed) to_list.push_back(c);
            // Each step fetches the lists that the step two ahead reads
            // (tens of megabytes of lists, read in no order the hardware
            // can guess): listing 1,100 -> 620 cycles an edge on
            // clifford_50000, deciding 1,000 -> 820.
            lanes.run(to_list.size(), [&](std::size_t t, int worker) {
                if (t + lookahead < to_list.size()) prefetch_ends(next - 1 - to_list[t + lookahead]);
                const std::size_t c = to_list[t];
                list_common(next - 1 - c, lanes_[queue[c]], scratch_[worker].marks);
            });
            const std::size_t wave = admit(next, k, queue);
            lanes.run(wave, [&](std::size_t c, int worker) {
                if (c + lookahead < wave) prefetch_list(lanes_[queue[c + lookahead]].first);
                lane& l = lanes_[queue[c]];
                l.budget = budget;   // each edge sees the budget as the wave began
                l.spent = 0;
                decide(next - 1 - c, l, max_events_per_edge, scratch_[worker]);
            });
            for (std::size_t c = 0; c < wave; ++c) {
                const std::size_t spent = lanes_[queue[c]].spent;
                budget = budget > spent ? budget - spent : 0;
                if (words_ && lanes_[queue[c]].kept) kept_.push_back(next - 1 - c);
            }
            if (words_) forget_kept(next > wave ? time_[next - wave - 1] : 0);
            // Edges listed but not in the wave keep their lists of common
            // neighbours unless the wave wrote one of their ends' lists.
            // (Near the end the queue can be longer than the edges left.)
            const std::uint64_t writes = 2 * wave_stamp_ + 1;
            for (std::size_t c = wave; c < queue.size(); ++c) {
                lane& l = lanes_[queue[c]];
                if (c >= next) { l.listed = false; continue; }
                const std::size_t e = next - 1 - c;
                l.listed = l.listed && in_wave_[edges_[e].u] != writes && in_wave_[edges_[e].v] != writes;
            }
            std::rotate(queue.begin(), queue.begin() + std::ptrdiff_t(wave), queue.end());
            for (std::size_t c = queue.size() - wave; c < queue.size(); ++c) lanes_[queue[c]].listed = false;
            processed += wave;
            next -= wave;
            if (two) lanes.set_two_lanes(chooser.two_lanes(processed));
            batch_ = std::min<std::size_t>(512, std::max<std::size_t>(8, 2 * wave + 2));
            if (start - budget > warm_up + give_up_per_edge * processed) {
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
    static constexpr std::size_t lookahead = 2;   // steps between a prefetch and the reads
    struct link {
        vertex_t vertex;
        rank_t time;  // when the edge to `vertex` appears (after the delays decided so far)
    };
    struct common_neighbor {
        vertex_t vertex;
        rank_t entry;  // when both edges to the ends are present
    };

    // A thread's work space on the lists path.
    struct scratch {
        std::vector<rank_t> marks;                // list_common_by_marks's; zero between calls
        std::vector<std::uint32_t> present;       // == stamp: a present common neighbour of the edge deciding
        std::uint32_t stamp = 0;
    };

    // One edge's work space (an edge of the wave at a time).
    struct alignas(64) lane {   // a cache line each: the two threads write neighbouring lanes
        vertex_t first = never;                 // the common neighbour present first: the likeliest dominator
        std::vector<vertex_t> present;          // common neighbours present, in vertex order
        std::vector<common_neighbor> later;     // the others, with the time they join
        std::size_t budget = 0, spent = 0;      // domination steps left when the wave began; spent since
        rank_t own = 0;                         // the edge's time
        bool listed = false;                    // present and later hold the edge's common neighbours
        bool kept = false;                      // left at its time (not dominated there)
    };

    // Lists edge i's common neighbours: those present at its time (in
    // vertex order, for the merge scans below) and the later ones, each with
    // the time it joins both ends. Reads the lists (and bits) of its two ends
    // only; `marks` is the calling thread's scratch (all zero between calls).
    void list_common(std::size_t i, lane& l, std::vector<rank_t>& marks) {
        const vertex_t u = vertex_t(edges_[i].u), v = vertex_t(edges_[i].v);
        const rank_t tau = time_[i];
        l.listed = true;
        if (!words_) return list_common_by_marks(u, v, tau, l, marks);
        l.present.clear();
        l.later.clear();
        l.first = never;
        rank_t first_entry = never;
        for_each_common_by_bits(u, v, [&](vertex_t x, rank_t entry) {   // entry: when both links to x are there
            if (entry <= tau) {
                if (entry < first_entry) { first_entry = entry; l.first = x; }
                l.present.push_back(x);
            } else {
                l.later.push_back({x, entry});
            }
        });
    }

    // The lists that listing edge i reads; the list of x, which deciding an
    // edge whose likeliest dominator is x reads (none without: x == never).
    // With bits, listing and deciding read the bit rows instead.
    void prefetch_ends(std::size_t i) {
        prefetch_list(vertex_t(edges_[i].u));
        prefetch_list(vertex_t(edges_[i].v));
    }
    void prefetch_list(vertex_t x) {
        if (!words_ && x != never) prefetch_range(list(x), size_[x] * sizeof(link));
    }

    // The same from the lists: the shorter one's vertices are marked (with
    // the link's time + 1), then the marks are read along the longer one.
    // A merge of the two would chain each step on the one before (and
    // mispredict at half the steps: half of a list is common on
    // clifford_50000); here every step stands alone, and the common
    // neighbours are written without a branch. Listing every edge of
    // clifford_50000 at full degree: 1.0 s against 1.75 s for the merge.
    void list_common_by_marks(vertex_t u, vertex_t v, rank_t tau, lane& l, std::vector<rank_t>& marks) {
        const link *a = list(u), *b = list(v);
        std::size_t na = size_[u], nb = size_[v];
        if (na > nb) {
            std::swap(a, b);
            std::swap(na, nb);
        }
        for (std::size_t k = 0; k < na; ++k) marks[a[k].vertex] = a[k].time + 1;   // times are below never
        l.present.resize(nb);
        l.later.resize(nb);
        vertex_t* const present = l.present.data();
        common_neighbor* const later = l.later.data();
        std::size_t n_present = 0, n_later = 0;
        rank_t first_entry = tau + 1;   // below it: present
        vertex_t first = never;
        for (std::size_t k = 0; k < nb; ++k) {
            const vertex_t x = b[k].vertex;
            const rank_t mark = marks[x];
            const rank_t entry = std::max(rank_t(mark - 1), b[k].time);   // never where unmarked
            const bool common = mark != 0;
            present[n_present] = x;
            later[n_later] = {x, entry};
            n_present += common & (entry <= tau);
            n_later += common & (entry > tau);
            const bool earlier = common & (entry < first_entry);   // the first in vertex order among equals
            first_entry = earlier ? entry : first_entry;
            first = earlier ? x : first;
        }
        for (std::size_t k = 0; k < na; ++k) marks[a[k].vertex] = 0;
        l.present.resize(n_present);
        l.later.resize(n_later);
        l.first = first;
    }

    // The same from the bits: the AND of the two rows, a word at a time; a
    // common neighbour's place in each list (in vertex order, exactly the
    // alive links) is a count of bits below it.
    template <class F>
    void for_each_common_by_bits(vertex_t u, vertex_t v, F&& f) {
        const std::uint64_t *au = alive_.data() + std::size_t(u) * words_, *av = alive_.data() + std::size_t(v) * words_;
        const link *lu = list(u), *lv = list(v);
        std::size_t below_u = 0, below_v = 0;   // links of u, v to vertices under the current word
        for (std::size_t k = 0; k < words_; ++k) {
            const std::uint64_t wu = au[k], wv = av[k];
            for (std::uint64_t both = wu & wv; both; both &= both - 1) {
                const int b = __builtin_ctzll(both);
                const std::uint64_t under = (std::uint64_t(1) << b) - 1;
                f(vertex_t(k * 64 + b), std::max(lu[below_u + __builtin_popcountll(wu & under)].time,
                                                 lv[below_v + __builtin_popcountll(wv & under)].time));
            }
            below_u += __builtin_popcountll(wu);
            below_v += __builtin_popcountll(wv);
        }
    }

    // How many of the k listed edges (from `next - 1` down) form the wave:
    // stops at the first that reads a list an earlier one writes, or writes
    // one an earlier one reads (at least one edge always goes).
    std::size_t admit(std::size_t next, std::size_t k, const std::vector<std::size_t>& queue) {
        ++wave_stamp_;
        const std::uint64_t reads = 2 * wave_stamp_, writes = 2 * wave_stamp_ + 1;   // writes imply reads
        std::size_t c = 0;
        for (; c < k; ++c) {
            const lane& l = lanes_[queue[c]];
            const vertex_t u = vertex_t(edges_[next - 1 - c].u), v = vertex_t(edges_[next - 1 - c].v);
            bool clash = in_wave_[u] >= reads || in_wave_[v] >= reads;
            // Edges kept in earlier waves are present (in the bits) at the
            // wave's first time only. (Without bits kept_ stays empty.)
            clash = clash || (!kept_.empty() && time_[next - 1 - c] != time_[next - 1]);
            for (const vertex_t x : l.present) clash = clash || in_wave_[x] == writes;
            for (const auto& x : l.later) clash = clash || in_wave_[x.vertex] == writes;
            if (clash && c > 0) break;
            for (const vertex_t x : l.present) in_wave_[x] = std::max(in_wave_[x], reads);
            for (const auto& x : l.later) in_wave_[x.vertex] = std::max(in_wave_[x.vertex], reads);
            in_wave_[u] = in_wave_[v] = writes;
        }
        return c;
    }

    // Delays or drops edge i (its common neighbours listed in l), or leaves it.
    void decide(std::size_t i, lane& l, std::size_t max_events, scratch& s) {
        rank_t tau = time_[i];
        l.own = tau;
        l.kept = false;
        if (!words_) {
            if (++s.stamp == 0) {   // wrapped: old stamps would read as current
                std::fill(s.present.begin(), s.present.end(), 0);
                s.stamp = 1;
            }
            for (const vertex_t w : l.present) s.present[w] = s.stamp;
        }
        vertex_t dominator;
        if (!find_dominator(l, tau, dominator, s)) { l.kept = true; return; }
        // Candidate times: when a common neighbour joins both ends. Between
        // two of them only edges among the present neighbours appear, which
        // can make the edge dominated but never undo it, so the first time it
        // is not dominated is one of these. A dominator stays one as long as
        // it is adjacent to each neighbour that joins; only when it is not is
        // another one searched for.
        auto& later = l.later;
        const auto later_first = [](const common_neighbor& x, const common_neighbor& y) { return x.entry > y.entry; };
        std::make_heap(later.begin(), later.end(), later_first);
        std::size_t events = 0;
        while (true) {
            if (later.empty()) return remove(i);   // dominated to the end
            tau = later.front().entry;
            if (++events > max_events || l.budget == 0) return delay(i, tau);   // stopping a delay early is safe
            bool still = true;
            while (!later.empty() && later.front().entry == tau) {
                const vertex_t w = later.front().vertex;
                still = still && adjacent_by(l, dominator, w, tau);
                l.present.insert(std::lower_bound(l.present.begin(), l.present.end(), w), w);
                if (!words_) s.present[w] = s.stamp;
                std::pop_heap(later.begin(), later.end(), later_first);
                later.pop_back();
            }
            if (!still && !find_dominator(l, tau, dominator, s)) return delay(i, tau);
        }
    }

    // A present common neighbour adjacent (by tau) to all the others. The
    // one that joined first is tried first: it is the dominator 90 % of the
    // times one exists (clifford_50000).
    bool find_dominator(lane& l, rank_t tau, vertex_t& dominator, const scratch& s) {
        if (l.first != never && dominates(l, l.first, tau, s, true)) { dominator = l.first; return true; }
        for (const vertex_t c : l.present)
            if (c != l.first && dominates(l, c, tau, s, false)) { dominator = c; return true; }
        return false;
    }

    // Whether c is adjacent by tau to every other present neighbour,
    // stopping at the first one missing. With bits, one bit per neighbour
    // (a link present at the edge's own time is present by tau; later links
    // are looked up); else a scan of c's list: a count of stamped neighbours
    // for the likeliest dominator, a merge with the present neighbours (both
    // in vertex order) for the others. Both spend the same steps on a
    // dominator (on a vertex that is not one, the count may read further).
    bool dominates(lane& l, vertex_t c, rank_t tau, const scratch& s, bool likely) {
        if (words_) {
            const std::uint64_t *now = present_.data() + std::size_t(c) * words_,
                                *alive = alive_.data() + std::size_t(c) * words_;
            std::size_t steps = 1;
            bool ok = true;
            for (const vertex_t w : l.present) {
                if (w == c) continue;
                ++steps;
                if (now[w >> 6] >> (w & 63) & 1) continue;
                if (tau > l.own && (alive[w >> 6] >> (w & 63) & 1) && find(c, w)->time <= tau) continue;
                ok = false;
                break;
            }
            spend(l, steps);
            return ok;
        }
        const link* ac = list(c);
        const std::size_t m = size_[c];
        if (likely) {
            // The likeliest dominator (it is one 90 % of the times there is
            // one): its links to present neighbours (they are stamped) by tau
            // are counted along its list, with no branch on what each link
            // holds. It dominates when every other present neighbour is
            // there; the count stops at the last one, where a merge would
            // stop too, or when the links left cannot make it up.
            const std::size_t need = l.present.size() - 1;   // c is present itself
            std::size_t hits = 0, k = 0;
            for (; k < m && hits < need && need - hits <= m - k; ++k)
                hits += (s.present[ac[k].vertex] == s.stamp) & (ac[k].time <= tau);
            spend(l, k + 1);
            return hits == need;
        }
        // Others seldom dominate: a merge scan stops at the first neighbour missing.
        std::size_t k = 0;
        bool ok = true;
        for (const vertex_t w : l.present) {
            if (w == c) continue;
            while (k < m && ac[k].vertex < w) ++k;
            if (k == m || ac[k].vertex != w || ac[k].time > tau) { ok = false; break; }
            ++k;
        }
        spend(l, k + 1);
        return ok;
    }

    bool adjacent_by(lane& l, vertex_t c, vertex_t w, rank_t tau) {
        const link* x = find(c, w);
        spend(l, 1);
        return x && x->time <= tau;
    }

    static void spend(lane& l, std::size_t steps) {
        l.spent += steps;
        l.budget = l.budget > steps ? l.budget - steps : 0;
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
        if (words_) set_link(present_, u, v, false);
        find(u, v)->time = tau;
        find(v, u)->time = tau;
    }

    // The edge never appears: it leaves both neighbour lists, which shortens
    // every later scan through them.
    void remove(std::size_t i) {
        time_[i] = never;
        const vertex_t u = vertex_t(edges_[i].u), v = vertex_t(edges_[i].v);
        if (words_) {
            set_link(present_, u, v, false);
            set_link(alive_, u, v, false);
        }
        for (const auto& [x, y] : {std::pair<vertex_t, vertex_t>{u, v}, {v, u}}) {
            link* const at = find(x, y);
            std::copy(at + 1, list(x) + size_[x], at);
            --size_[x];
        }
    }

    // Sets or clears link uv (both directions) in one of the bit matrices.
    void set_link(std::vector<std::uint64_t>& bits, vertex_t u, vertex_t v, bool on) {
        for (const auto& [x, y] : {std::pair<vertex_t, vertex_t>{u, v}, {v, u}}) {
            std::uint64_t& word = bits[std::size_t(x) * words_ + (y >> 6)];
            const std::uint64_t bit = std::uint64_t(1) << (y & 63);
            word = on ? word | bit : word & ~bit;
        }
    }

    // Edges left at their time stay present until the edges to process are
    // earlier (`now`): then their bits go. kept_ is in processing order, so
    // by non-increasing time, and what stays has time `now`.
    void forget_kept(rank_t now) {
        std::size_t k = 0;
        for (; k < kept_.size() && time_[kept_[k]] > now; ++k)
            set_link(present_, vertex_t(edges_[kept_[k]].u), vertex_t(edges_[kept_[k]].v), false);
        kept_.erase(kept_.begin(), kept_.begin() + std::ptrdiff_t(k));
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

    std::vector<filtered_edge<value_t>> edges_;   // in filtration order
    std::vector<rank_t> time_;                    // each edge's time after the collapse so far
    std::vector<value_t> values_;                 // the distinct values, ascending
    std::vector<index_t> start_;                  // where each vertex's list begins in links_
    std::vector<std::uint32_t> size_;             // its current length (dropped edges leave it)
    std::vector<link> links_;                     // every list, each in vertex order
    int threads_;                                 // 1 or 2: the waves' lanes
    std::vector<lane> lanes_;                     // one per edge listed ahead
    scratch scratch_[2];                          // per thread, on the lists path
    std::size_t batch_ = 8;                       // edges listed ahead of each wave
    std::vector<std::uint64_t> in_wave_;          // per vertex: read (2s) or written (2s + 1) in wave s
    std::uint64_t wave_stamp_ = 0;
    std::size_t words_ = 0;                       // per row of present_; 0: no bits
    std::vector<std::uint64_t> present_;          // bit (x, y): link xy is there at the time of the edges in process
    std::vector<std::uint64_t> alive_;            // bit (x, y): link xy is not dropped
    std::vector<std::size_t> kept_;               // edges left at their time, still present
    bool abandoned_ = false;
};

}  // namespace toposcope
