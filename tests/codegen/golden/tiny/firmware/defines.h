#ifndef TINY_DEFINES_H
#define TINY_DEFINES_H

#include "ap_fixed.h"
#include "ap_int.h"

typedef ap_fixed<8,3,AP_RND_CONV,AP_SAT> fixed_8_3_rnd_conv_sat_t;
typedef ap_ufixed<8,3,AP_RND_CONV,AP_SAT> ufixed_8_3_rnd_conv_sat_t;
typedef ap_fixed<6,1> fixed_6_1_t;
typedef ap_fixed<8,2> fixed_8_2_t;
typedef ap_fixed<16,6> fixed_16_6_t;
typedef ap_fixed<17,7> fixed_17_7_t;
typedef ap_ufixed<15,5> ufixed_15_5_t;

#endif
