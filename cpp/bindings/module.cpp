// The compiled module: only registration, no algorithms.
#include "common.hpp"

namespace toposcope_bindings {

PYBIND11_MODULE(_core, m) {
    m.doc() = "toposcope's C++ core: Vietoris-Rips persistent cohomology";
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const interrupted&) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
    });
    register_rips(m);
    register_sampling(m);
}

}  // namespace toposcope_bindings
