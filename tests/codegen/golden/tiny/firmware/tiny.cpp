#include "tiny.h"
#include "weights.h"

void layer_Gemm_output_0(const fixed_8_3_rnd_conv_sat_t in0[4], ufixed_8_3_rnd_conv_sat_t out0[3]) {
    #pragma HLS PIPELINE II=1
    #pragma HLS ARRAY_PARTITION variable=in0 complete dim=0
    #pragma HLS ARRAY_PARTITION variable=out0 complete dim=0
    fixed_16_6_t v1[3];
    #pragma HLS ARRAY_PARTITION variable=v1 complete dim=1
    {
        fixed_17_7_t acc2[3];
        #pragma HLS ARRAY_PARTITION variable=acc2 complete dim=1
        for (int j = 0; j < 3; j++) {
            #pragma HLS UNROLL
            acc2[j] = fixed_17_7_t(raw_fixed_8_2_t(layer_Gemm_output_0_w_2[j]));
        }
        for (int i = 0; i < 4; i++) {
            #pragma HLS UNROLL
            for (int j = 0; j < 3; j++) {
                #pragma HLS UNROLL
                acc2[j] += in0[i] * raw_fixed_6_1_t(layer_Gemm_output_0_w[(i * 3) + j]);
            }
        }
        for (int j = 0; j < 3; j++) {
            #pragma HLS UNROLL
            v1[j] = fixed_16_6_t(acc2[j]);
        }
    }
    ufixed_15_5_t v3[3];
    #pragma HLS ARRAY_PARTITION variable=v3 complete dim=1
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        v3[i] = v1[i].is_neg() ? ufixed_15_5_t(0) : ufixed_15_5_t(v1[i]);
    }
    ufixed_8_3_rnd_conv_sat_t v4[3];
    #pragma HLS ARRAY_PARTITION variable=v4 complete dim=1
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        v4[i] = ufixed_8_3_rnd_conv_sat_t(v3[i]);
    }
    for (int i = 0; i < 3; i++) {
        #pragma HLS UNROLL
        out0[i] = v4[i];
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
