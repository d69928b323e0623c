// Arithmetic in the prime field Z/p.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "types.hpp"

namespace toposcope {

inline bool is_prime(long p) {
    if (p < 2) return false;
    for (long d = 2; d * d <= p; ++d)
        if (p % d == 0) return false;
    return true;
}

class prime_field {
public:
    explicit prime_field(long p) : p_(static_cast<coefficient_t>(p)) {
        if (!is_prime(p) || p >= (1 << 15))
            throw std::domain_error("coefficient field Z/" + std::to_string(p) +
                                    " needs a prime p < 32768");
        // Inverses by Wilson-style recurrence: inv(a) = -(p / a) * inv(p mod a).
        inverse_.assign(p_, 0);
        if (p_ > 1) inverse_[1] = 1;
        for (coefficient_t a = 2; a < p_; ++a)
            inverse_[a] = static_cast<coefficient_t>((p_ - (p_ / a) * inverse_[p_ % a] % p_) % p_);
    }
    coefficient_t modulus() const { return p_; }
    coefficient_t inverse(coefficient_t a) const { return inverse_[a]; }
    coefficient_t add(coefficient_t a, coefficient_t b) const {
        unsigned s = unsigned(a) + b;
        return static_cast<coefficient_t>(s >= p_ ? s - p_ : s);
    }
    // Z/2 (the default, nearly every call) without a division.
    coefficient_t mul(coefficient_t a, coefficient_t b) const {
        return p_ == 2 ? coefficient_t(a & b) : static_cast<coefficient_t>((unsigned(a) * b) % p_);
    }
    coefficient_t neg(coefficient_t a) const { return a == 0 ? 0 : static_cast<coefficient_t>(p_ - a); }
    // The coefficient (-1)^k.
    coefficient_t sign(index_t k) const { return (k & 1) ? static_cast<coefficient_t>(p_ - 1) : 1; }

private:
    coefficient_t p_;
    std::vector<coefficient_t> inverse_;
};

}  // namespace toposcope
