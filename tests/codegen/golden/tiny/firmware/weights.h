#ifndef TINY_WEIGHTS_H
#define TINY_WEIGHTS_H

#include <cstdint>
#include "defines.h"

static inline fixed_6_1_t raw_fixed_6_1_t(long long r) {
    fixed_6_1_t v;
    v.range(5, 0) = r;
    return v;
}

static inline fixed_8_2_t raw_fixed_8_2_t(long long r) {
    fixed_8_2_t v;
    v.range(7, 0) = r;
    return v;
}

static const int8_t layer_Gemm_output_0_w[12] = {4, 0, -3, 8, 1, 0, 0, -16, 5, 2, 2, 2};
static const int8_t layer_Gemm_output_0_w_2[3] = {1, -2, 3};

#endif
