// Bindings for the Rips engine. Arrays arrive C-contiguous in float32 or
// float64 (the engine computes in that precision), are borrowed without a
// copy, and the GIL is released for the whole computation: the engine touches
// no Python object, and the input arrays are kept alive by the caller's frame.
#include <cmath>
#include <string>

#include "common.hpp"
#include "toposcope/radius_graph.hpp"
#include "toposcope/rips.hpp"

namespace toposcope_bindings {

using namespace toposcope;

namespace {

template <class value_t>
std::vector<value_t> births_vector(const py::object& births, index_t n) {
    std::vector<value_t> out;
    if (births.is_none()) return out;
    auto arr = births.cast<carray<value_t>>();
    if (arr.ndim() != 1 || arr.shape(0) != n) throw std::invalid_argument("births must have one value per vertex");
    out.assign(arr.data(), arr.data() + n);
    return out;
}

template <class value_t>
py::dict pack(persistence_result<value_t>&& res, const simplex_codec& codec, index_t n_vertices, bool collapse) {
    py::list dgms, births, deaths, cocycles, stats;
    std::vector<index_t> verts;
    for (std::size_t dim = 0; dim < res.diagrams.size(); ++dim) {
        auto& dg = res.diagrams[dim];
        const py::ssize_t k = static_cast<py::ssize_t>(dg.bars.size());
        const py::ssize_t nb = static_cast<py::ssize_t>(dim + 1), nd = nb + 1;
        std::vector<double> pairs(2 * k);
        std::vector<std::int64_t> bs(k * nb), ds(k * nd, -1);
        for (py::ssize_t b = 0; b < k; ++b) {
            const auto& br = dg.bars[b];
            pairs[2 * b] = static_cast<double>(br.birth);
            pairs[2 * b + 1] = static_cast<double>(br.death);
            codec.vertices(br.birth_simplex, dim, verts);
            std::copy(verts.begin(), verts.end(), bs.begin() + b * nb);
            if (br.death_simplex >= 0) {
                codec.vertices(br.death_simplex, dim + 1, verts);
                std::copy(verts.begin(), verts.end(), ds.begin() + b * nd);
            }
        }
        dgms.append(to_numpy(std::move(pairs), {k, 2}));
        births.append(to_numpy(std::move(bs), {k, nb}));
        deaths.append(to_numpy(std::move(ds), {k, nd}));
        py::list zs;
        for (auto& z : dg.cocycles) {
            const py::ssize_t m = static_cast<py::ssize_t>(z.simplices.size());
            std::vector<std::int64_t> rows(m * nd);
            for (py::ssize_t r = 0; r < m; ++r) {
                codec.vertices(z.simplices[r], dim, verts);
                std::copy(verts.begin(), verts.end(), rows.begin() + r * nd);
                rows[r * nd + nb] = z.coefficients[r];
            }
            zs.append(to_numpy(std::move(rows), {m, nd}));
        }
        cocycles.append(zs);
        const auto& s = res.stats[dim];
        py::dict sd;
        sd["columns"] = s.columns;
        sd["apparent"] = s.apparent;
        sd["emergent"] = s.emergent;
        sd["cleared"] = s.cleared;
        sd["additions"] = s.additions;
        stats.append(sd);
    }
    py::dict out;
    out["dgms"] = dgms;
    out["birth_simplices"] = births;
    out["death_simplices"] = deaths;
    out["cocycles"] = cocycles;
    out["num_edges"] = res.num_edges;
    out["threshold"] = static_cast<double>(res.threshold);
    out["stats"] = stats;
    out["n_vertices"] = n_vertices;
    out["collapsed"] = collapse && !res.forward_sweep;   // the sweep runs instead of the collapse
    out["engine"] = res.forward_sweep ? "forward" : "cohomology";
    return out;
}

rips_options make_options(index_t maxdim, long coeff, bool cocycles, int n_threads, bool collapse,
                          index_t forward_max_edges = 0) {
    if (maxdim < 0) throw std::invalid_argument("maxdim must be >= 0");
    rips_options opt;
    opt.collapse = collapse;
    opt.max_dim = maxdim;
    opt.modulus = coeff;
    opt.cocycles = cocycles;
    opt.n_threads = n_threads;
    opt.forward_max_edges = forward_max_edges;
    opt.check_interrupt = check_signals;
    prime_field check(coeff);  // validates the modulus before any work
    (void)check;
    return opt;
}

// Runs a dense matrix, switching to sparse neighbourhoods when the threshold
// keeps less than `sparse_below` of all edges.
template <class value_t>
py::dict run_dense(dense_distance_matrix<value_t>&& dist, double threshold, const rips_options& opt,
                   double sparse_below) {
    const index_t n = dist.size();
    simplex_codec codec(n, opt.max_dim + 1);
    persistence_result<value_t> res;
    {
        py::gil_scoped_release release;
        value_t thr = static_cast<value_t>(threshold);
        if (n > 1) thr = std::min(thr, enclosing_radius(dist, opt.n_threads));
        const index_t kept = count_edges(dist, thr, opt.n_threads), total = n * (n - 1) / 2;
        // The forward sweep reads a dense matrix only to list its edges.
        if (total > 0 && kept < sparse_below * total && !forward_sweep_applies(opt, kept, n)) {
            std::vector<index_t> rows, cols;
            std::vector<value_t> vals;
            rows.reserve(kept); cols.reserve(kept); vals.reserve(kept);
            for (index_t i = 0; i < n; ++i)
                for (index_t j = i + 1; j < n; ++j)
                    if (dist.row(i)[j] <= thr) { rows.push_back(i); cols.push_back(j); vals.push_back(dist.row(i)[j]); }
            std::vector<value_t> births(n);
            for (index_t i = 0; i < n; ++i) births[i] = dist.vertex_birth(i);
            sparse_distance_matrix<value_t> sparse(n, rows, cols, vals, dist.has_births() ? births : std::vector<value_t>{});
            res = compute_persistence(sparse, thr, opt);
        } else {
            res = compute_persistence(dist, thr, opt, kept);
        }
    }
    return pack(std::move(res), codec, n, opt.collapse);
}

template <class value_t>
py::dict rips_condensed(carray<value_t> dist, index_t n, py::object births, index_t maxdim, double threshold,
                        long coeff, bool cocycles, int n_threads, double sparse_below, bool collapse,
                        index_t forward_max_edges) {
    rips_options opt = make_options(maxdim, coeff, cocycles, n_threads, collapse, forward_max_edges);
    if (dist.ndim() != 1 || dist.shape(0) != n * (n - 1) / 2)
        throw std::invalid_argument("condensed distances must have n*(n-1)/2 entries");
    std::vector<value_t> b = births_vector<value_t>(births, n);
    dense_distance_matrix<value_t> dm(nullptr, 0);
    {
        py::gil_scoped_release release;
        dm = dense_distance_matrix<value_t>::from_condensed(dist.data(), n, std::move(b));
    }
    return run_dense(std::move(dm), threshold, opt, sparse_below);
}

// A square matrix is borrowed as it is: the caller guarantees it is symmetric.
template <class value_t>
py::dict rips_square(carray<value_t> dist, py::object births, index_t maxdim, double threshold, long coeff,
                     bool cocycles, int n_threads, double sparse_below, bool collapse, index_t forward_max_edges) {
    rips_options opt = make_options(maxdim, coeff, cocycles, n_threads, collapse, forward_max_edges);
    if (dist.ndim() != 2 || dist.shape(0) != dist.shape(1))
        throw std::invalid_argument("a distance matrix must be square");
    const index_t n = dist.shape(0);
    dense_distance_matrix<value_t> dm(dist.data(), n, births_vector<value_t>(births, n));
    return run_dense(std::move(dm), threshold, opt, sparse_below);
}

template <class value_t>
py::dict rips_points(carray<value_t> points, py::object births, index_t maxdim, double threshold, long coeff,
                     bool cocycles, int n_threads, double sparse_below, bool collapse, index_t forward_max_edges) {
    rips_options opt = make_options(maxdim, coeff, cocycles, n_threads, collapse, forward_max_edges);
    if (points.ndim() != 2) throw std::invalid_argument("points must be a 2-D array");
    const index_t n = points.shape(0), d = points.shape(1);
    square_buffer<value_t> square;
    {
        py::gil_scoped_release release;
        square = euclidean_square(points.data(), n, d, n_threads);
    }
    dense_distance_matrix<value_t> dm(std::move(square), n, births_vector<value_t>(births, n));
    return run_dense(std::move(dm), threshold, opt, sparse_below);
}

// A thresholded point cloud as the graph of its pairs within the threshold
// (radius_graph.hpp): memory follows the edges, not n^2.
template <class value_t>
py::dict rips_radius(carray<value_t> points, index_t maxdim, double threshold, long coeff, bool cocycles,
                     int n_threads, bool collapse, index_t forward_max_edges) {
    rips_options opt = make_options(maxdim, coeff, cocycles, n_threads, collapse, forward_max_edges);
    if (points.ndim() != 2) throw std::invalid_argument("points must be a 2-D array");
    if (!(threshold >= 0) || !std::isfinite(threshold)) throw std::invalid_argument("the radius graph needs a finite threshold");
    const index_t n = points.shape(0), d = points.shape(1);
    simplex_codec codec(n, maxdim + 1);
    persistence_result<value_t> res;
    {
        py::gil_scoped_release release;
        const value_t thr = static_cast<value_t>(threshold);
        res = compute_graph_persistence(n, points_within(points.data(), n, d, thr, n_threads), thr, opt);
    }
    return pack(std::move(res), codec, n, opt.collapse);
}

template <class value_t>
py::tuple radius_edges(carray<value_t> points, double radius, int n_threads) {
    if (points.ndim() != 2) throw std::invalid_argument("points must be a 2-D array");
    std::vector<filtered_edge<value_t>> edges;
    {
        py::gil_scoped_release release;
        edges = points_within(points.data(), points.shape(0), points.shape(1), static_cast<value_t>(radius), n_threads);
    }
    const py::ssize_t m = static_cast<py::ssize_t>(edges.size());
    std::vector<std::int64_t> rows(m), cols(m);
    std::vector<value_t> values(m);
    for (py::ssize_t e = 0; e < m; ++e) { rows[e] = edges[e].u; cols[e] = edges[e].v; values[e] = edges[e].value; }
    return py::make_tuple(to_numpy(std::move(rows), {m}), to_numpy(std::move(cols), {m}),
                          to_numpy(std::move(values), {m}));
}

template <class value_t>
py::dict rips_sparse(index_t n, carray<std::int64_t> rows, carray<std::int64_t> cols, carray<value_t> values,
                     py::object births, index_t maxdim, double threshold, long coeff, bool cocycles,
                     int n_threads, bool collapse, index_t forward_max_edges) {
    rips_options opt = make_options(maxdim, coeff, cocycles, n_threads, collapse, forward_max_edges);
    const index_t m = rows.size();
    if (cols.size() != m || values.size() != m) throw std::invalid_argument("rows, cols and values differ in length");
    std::vector<value_t> b = births_vector<value_t>(births, n);
    persistence_result<value_t> res;
    simplex_codec codec(n, maxdim + 1);
    {
        py::gil_scoped_release release;
        std::vector<index_t> r, c;
        std::vector<value_t> v;
        const value_t thr = static_cast<value_t>(threshold);
        for (index_t e = 0; e < m; ++e) {
            const index_t i = rows.data()[e], j = cols.data()[e];
            if (i < 0 || j < 0 || i >= n || j >= n) throw std::out_of_range("edge endpoint out of range");
            if (i == j || !(values.data()[e] <= thr)) continue;
            r.push_back(i); c.push_back(j); v.push_back(values.data()[e]);
        }
        sparse_distance_matrix<value_t> dist(n, r, c, v, std::move(b));
        res = compute_persistence(dist, thr, opt);
    }
    return pack(std::move(res), codec, n, opt.collapse);
}

// The square Euclidean matrix of a point cloud, as the engine computes it
// (same bits as rips_points uses), handed to numpy without a copy.
template <class value_t>
py::array_t<value_t> euclidean_distances(carray<value_t> points, int n_threads) {
    if (points.ndim() != 2) throw std::invalid_argument("points must be a 2-D array");
    const index_t n = points.shape(0), d = points.shape(1);
    square_buffer<value_t> square;
    {
        py::gil_scoped_release release;
        square = euclidean_square(points.data(), n, d, n_threads);
    }
    return to_numpy(std::move(square), {n, n});
}

template <class value_t>
double enclosing(carray<value_t> dist) {
    if (dist.ndim() != 2 || dist.shape(0) != dist.shape(1)) throw std::invalid_argument("a distance matrix must be square");
    dense_distance_matrix<value_t> dm(dist.data(), dist.shape(0));
    py::gil_scoped_release release;
    return static_cast<double>(enclosing_radius(dm));
}

}  // namespace

void register_rips(py::module_& m) {
    const char* doc_condensed =
        "Persistence of a condensed (scipy pdist layout) distance vector of n points.";
    const char* doc_points = "Persistence of the Euclidean Rips filtration of an (n, d) point cloud.";
    const char* doc_sparse = "Persistence of a graph given as an edge list (i, j, value) on n vertices.";
    m.def("rips_condensed", &rips_condensed<float>, doc_condensed, py::arg("dist").noconvert(), py::arg("n"),
          py::arg("births"), py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"),
          py::arg("n_threads"), py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    m.def("rips_condensed", &rips_condensed<double>, doc_condensed, py::arg("dist").noconvert(), py::arg("n"),
          py::arg("births"), py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"),
          py::arg("n_threads"), py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    const char* doc_square = "Persistence of a symmetric square distance matrix (borrowed, not copied).";
    m.def("rips_square", &rips_square<float>, doc_square, py::arg("dist").noconvert(), py::arg("births"),
          py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"),
          py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    m.def("rips_square", &rips_square<double>, doc_square, py::arg("dist").noconvert(), py::arg("births"),
          py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"),
          py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    m.def("rips_points", &rips_points<float>, doc_points, py::arg("points").noconvert(), py::arg("births"),
          py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"),
          py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    m.def("rips_points", &rips_points<double>, doc_points, py::arg("points").noconvert(), py::arg("births"),
          py::arg("maxdim"), py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"),
          py::arg("sparse_below"), py::arg("collapse"), py::arg("forward_max_edges"));
    m.def("rips_sparse", &rips_sparse<float>, doc_sparse, py::arg("n"), py::arg("rows"), py::arg("cols"),
          py::arg("values").noconvert(), py::arg("births"), py::arg("maxdim"), py::arg("threshold"),
          py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"), py::arg("collapse"),
          py::arg("forward_max_edges"));
    m.def("rips_sparse", &rips_sparse<double>, doc_sparse, py::arg("n"), py::arg("rows"), py::arg("cols"),
          py::arg("values").noconvert(), py::arg("births"), py::arg("maxdim"), py::arg("threshold"),
          py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"), py::arg("collapse"),
          py::arg("forward_max_edges"));
    const char* doc_radius = "Persistence of a point cloud's graph of pairs within a finite threshold (no n x n matrix).";
    m.def("rips_radius", &rips_radius<float>, doc_radius, py::arg("points").noconvert(), py::arg("maxdim"),
          py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"), py::arg("collapse"),
          py::arg("forward_max_edges"));
    m.def("rips_radius", &rips_radius<double>, doc_radius, py::arg("points").noconvert(), py::arg("maxdim"),
          py::arg("threshold"), py::arg("coeff"), py::arg("cocycles"), py::arg("n_threads"), py::arg("collapse"),
          py::arg("forward_max_edges"));
    const char* doc_edges = "Pairs i < j of points within a radius and their distances: (rows, cols, values).";
    m.def("radius_edges", &radius_edges<float>, doc_edges, py::arg("points").noconvert(), py::arg("radius"),
          py::arg("n_threads"));
    m.def("radius_edges", &radius_edges<double>, doc_edges, py::arg("points").noconvert(), py::arg("radius"),
          py::arg("n_threads"));
    const char* doc_euclidean = "The (n, n) Euclidean distance matrix of an (n, d) point cloud, as the engine computes it.";
    m.def("euclidean_distances", &euclidean_distances<float>, doc_euclidean, py::arg("points").noconvert(),
          py::arg("n_threads"));
    m.def("euclidean_distances", &euclidean_distances<double>, doc_euclidean, py::arg("points").noconvert(),
          py::arg("n_threads"));
    m.def("enclosing_radius", &enclosing<float>, py::arg("dist").noconvert());
    m.def("enclosing_radius", &enclosing<double>, py::arg("dist").noconvert());
    m.def("is_prime", [](long p) { return is_prime(p); }, py::arg("p"));
}

}  // namespace toposcope_bindings
