#include "tiny.h"
#include "weights.h"

void layer_Gemm_output_0(const fixed_8_3_rnd_conv_sat_t in0[4], ufixed_8_3_rnd_conv_sat_t out0[3]) {
    #pragma HLS PIPELINE II=1
    #pragma HLS ARRAY_PARTITION variable=in0 complete dim=0
    #pragma HLS ARRAY_PARTITION variable=out0 complete dim=0
    fixed_16_6_t v1[3];
    #pragma HLS ARRAY_PARTITION variable=v1 complete dim=1
    {
        fixed_17_7_t acc0 = fixed_17_7_t(0.015625);
        acc0 += fixed_17_7_t(fixed_11_3_t(in0[0]) >> 3);
        acc0 += fixed_17_7_t(fixed_10_3_t(in0[1]) >> 2);
        acc0 += fixed_17_7_t(fixed_12_3_t(in0[3]) >> 4);
        v1[0] = fixed_16_6_t(acc0);
        fixed_17_7_t acc1 = fixed_17_7_t(-0.03125);
        acc1 += fixed_17_7_t(fixed_13_3_t(in0[1]) >> 5);
        acc1 -= fixed_17_7_t(fixed_9_3_t(in0[2]) >> 1);
        acc1 += fixed_17_7_t(fixed_12_3_t(in0[3]) >> 4);
        v1[1] = fixed_16_6_t(acc1);
        fixed_17_7_t acc2 = fixed_17_7_t(0.046875);
        acc2 += in0[0] * layer_Gemm_output_0_w[2];
        acc2 += in0[2] * layer_Gemm_output_0_w[8];
        acc2 += fixed_17_7_t(fixed_12_3_t(in0[3]) >> 4);
        v1[2] = fixed_16_6_t(acc2);
    }
    ufixed_15_5_t v2[3];
    #pragma HLS ARRAY_PARTITION variable=v2 complete dim=1
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        v2[i] = v1[i].is_neg() ? ufixed_15_5_t(0) : ufixed_15_5_t(v1[i]);
    }
    ufixed_8_3_rnd_conv_sat_t v3[3];
    #pragma HLS ARRAY_PARTITION variable=v3 complete dim=1
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        v3[i] = ufixed_8_3_rnd_conv_sat_t(v2[i]);
    }
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        out0[i] = v3[i];
    }
}

void tiny(const fixed_8_3_rnd_conv_sat_t in_x_185[4], ufixed_8_3_rnd_conv_sat_t out_out_put[3]) {
    #pragma HLS ARRAY_PARTITION variable=in_x_185 complete dim=0
    #pragma HLS INTERFACE ap_vld port=in_x_185
    #pragma HLS ARRAY_PARTITION variable=out_out_put complete dim=0
    #pragma HLS INTERFACE ap_vld port=out_out_put
    #pragma HLS PIPELINE II=1
    layer_Gemm_output_0(in_x_185, out_out_put);
}
