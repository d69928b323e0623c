// Helpers shared by the binding files: array aliases, error translation and
// the Ctrl-C check used while the GIL is released.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <exception>
#include <vector>

namespace toposcope_bindings {

namespace py = pybind11;

template <class T>
using carray = py::array_t<T, py::array::c_style>;

struct interrupted : std::exception {
    const char* what() const noexcept override { return "interrupted"; }
};

// Called between batches of columns with the GIL released: takes it briefly
// to let Python handle pending signals (Ctrl-C aborts the computation).
inline void check_signals() {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
        PyErr_Clear();
        throw interrupted();
    }
}

// Hands a vector's buffer to numpy without a copy: the array owns the vector.
template <class T, class Alloc>
py::array_t<T> to_numpy(std::vector<T, Alloc>&& values, std::vector<py::ssize_t> shape) {
    using vector_t = std::vector<T, Alloc>;
    auto* owned = new vector_t(std::move(values));
    py::capsule owner(owned, [](void* p) { delete static_cast<vector_t*>(p); });
    return py::array_t<T>(shape, owned->data(), owner);
}

void register_rips(py::module_& m);
void register_sampling(py::module_& m);

}  // namespace toposcope_bindings
