// Bindings for farthest-point sampling. Arrays arrive C-contiguous in float32
// or float64 and are borrowed without a copy (`noconvert`: a float32 array is
// never widened); the GIL is released for the whole loop, which touches no
// Python object, while the caller's frame keeps the input alive.
#include <cstdint>

#include "common.hpp"
#include "toposcope/greedy_permutation.hpp"

namespace toposcope_bindings {

using namespace toposcope;

namespace {

py::tuple to_python(greedy_permutation_result&& res) {
    const py::ssize_t k = static_cast<py::ssize_t>(res.order.size());
    std::vector<std::int64_t> order(res.order.begin(), res.order.end());
    return py::make_tuple(to_numpy(std::move(order), {k}), to_numpy(std::move(res.radii), {k}));
}

template <class Source>
py::tuple run(const Source& source, index_t n, index_t k, double eps, index_t start, int n_threads,
              double work_per_point) {
    greedy_permutation_result res;
    {
        py::gil_scoped_release release;
        res = greedy_permutation(source, n, k, eps, start, n_threads, work_per_point, check_signals);
    }
    return to_python(std::move(res));
}

template <class value_t>
py::tuple fps_points(carray<value_t> points, index_t k, double eps, index_t start, int n_threads) {
    if (points.ndim() != 2) throw std::invalid_argument("points must be a 2-D array");
    const index_t n = points.shape(0), d = points.shape(1);
    return run(euclidean_points<value_t>{points.data(), n, d}, n, k, eps, start, n_threads, double(d));
}

template <class value_t>
py::tuple fps_distance_matrix(carray<value_t> dist, index_t k, double eps, index_t start, int n_threads) {
    if (dist.ndim() == 2) {
        const index_t n = dist.shape(0);
        if (dist.shape(1) != n) throw std::invalid_argument("a distance matrix must be square");
        return run(square_distances<value_t>{dist.data(), n}, n, k, eps, start, n_threads, 1.0);
    }
    if (dist.ndim() != 1) throw std::invalid_argument("distances must be a square matrix or a condensed vector");
    const index_t m = dist.shape(0);
    index_t n = static_cast<index_t>(std::llround((1.0 + std::sqrt(1.0 + 8.0 * double(m))) / 2.0));
    if (n * (n - 1) / 2 != m) throw std::invalid_argument("a condensed distance vector needs n*(n-1)/2 entries");
    return run(condensed_distances<value_t>{dist.data(), n}, n, k, eps, start, n_threads, 1.0);
}

}  // namespace

void register_sampling(py::module_& m) {
    const char* doc_points =
        "Farthest-point sampling of an (n, d) point cloud under the Euclidean distance: "
        "(indices int64, covering radii float64).";
    const char* doc_matrix =
        "Farthest-point sampling from a square distance matrix (rows read) or a condensed vector: "
        "(indices int64, covering radii float64).";
    m.def("farthest_points", &fps_points<float>, doc_points, py::arg("points").noconvert(), py::arg("k"),
          py::arg("eps"), py::arg("start"), py::arg("n_threads"));
    m.def("farthest_points", &fps_points<double>, doc_points, py::arg("points").noconvert(), py::arg("k"),
          py::arg("eps"), py::arg("start"), py::arg("n_threads"));
    m.def("farthest_points_precomputed", &fps_distance_matrix<float>, doc_matrix, py::arg("dist").noconvert(),
          py::arg("k"), py::arg("eps"), py::arg("start"), py::arg("n_threads"));
    m.def("farthest_points_precomputed", &fps_distance_matrix<double>, doc_matrix, py::arg("dist").noconvert(),
          py::arg("k"), py::arg("eps"), py::arg("start"), py::arg("n_threads"));
}

}  // namespace toposcope_bindings
