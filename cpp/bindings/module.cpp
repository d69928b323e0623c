// The compiled module: only registration, no algorithms.
#include "common.hpp"

namespace toposcope_bindings {

PYBIND11_MODULE(_core, m) {
#if defined(__x86_64__) && defined(__POPCNT__)
    // Built for x86-64 with POPCNT (CMakeLists.txt): fail the import, not a
    // computation, on a CPU without it.
    if (!__builtin_cpu_supports("popcnt"))
        throw std::runtime_error("toposcope needs an x86-64 CPU with POPCNT (x86-64-v2, as numpy >= 2.4 does)");
#endif
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
