#ifndef TINY_WEIGHTS_H
#define TINY_WEIGHTS_H

#include "defines.h"

static const fixed_6_1_t layer_Gemm_output_0_w[12] = {0.125, 0, -0.09375, 0.25, 0.03125, 0, 0, -0.5, 0.15625, 0.0625, 0.0625, 0.0625};
static const fixed_8_2_t layer_Gemm_output_0_w_2[3] = {0.015625, -0.03125, 0.046875};

#endif
