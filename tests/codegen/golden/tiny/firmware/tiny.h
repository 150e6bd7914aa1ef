#ifndef TINY_H
#define TINY_H

#include "defines.h"

void tiny(const fixed_8_3_rnd_conv_sat_t in_x_185[4], ufixed_8_3_rnd_conv_sat_t out_out_put[3]);

#endif
