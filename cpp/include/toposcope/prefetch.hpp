// Software prefetch of a memory range, one cache line at a time: for reads
// whose addresses are known a few steps before the data are needed (the
// edge collapse's neighbour lists, scattered over tens of megabytes).
#pragma once

#include <cstddef>

namespace toposcope {

inline void prefetch_line(const void* p) {
    // An asm statement, not __builtin_prefetch: GCC deletes a loop whose only
    // work is __builtin_prefetch once it proves the loop finite (the calls
    // count as having no effect), which silently removed every prefetch
    // loop written with it here.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) && defined(__aarch64__)
    asm volatile("prfm pldl1keep, %0" : : "Q"(*static_cast<const char*>(p)));
#else
    (void)p;
#endif
}

// Every cache line of [begin, begin + bytes).
inline void prefetch_range(const void* begin, std::size_t bytes) {
    const char* const p = static_cast<const char*>(begin);
    for (std::size_t offset = 0; offset < bytes; offset += 64) prefetch_line(p + offset);
    if (bytes > 0) prefetch_line(p + bytes - 1);   // the last line, when begin is not at a line's start
}

}  // namespace toposcope
