// C simulation bridge of tiny: raw int64 codes in and out, n samples sample-major.
#include <cstdint>
#include <type_traits>
#include "tiny.h"

typedef std::add_pointer_t<std::add_const_t<std::int64_t>> fmlc_raw_in;
typedef std::add_pointer_t<std::int64_t> fmlc_raw_out;

extern "C" {
int fmlc_csim_run(fmlc_raw_in fmlc_in0, fmlc_raw_out fmlc_out0, int fmlc_n) {
    for (int fmlc_s = 0; fmlc_s < fmlc_n; fmlc_s++) {
        fixed_8_3_rnd_conv_sat_t fmlc_x0[4];
        for (int fmlc_i = 0; fmlc_i < 4; fmlc_i++) {
            ap_uint<8> fmlc_bits = fmlc_in0[(fmlc_s * 4) + fmlc_i];
            fmlc_x0[fmlc_i].range(7, 0) = fmlc_bits;
        }
        ufixed_8_3_rnd_conv_sat_t fmlc_y0[3];
        tiny(fmlc_x0, fmlc_y0);
        for (int fmlc_i = 0; fmlc_i < 3; fmlc_i++) {
            ap_uint<8> fmlc_bits = fmlc_y0[fmlc_i].range(7, 0);
            fmlc_out0[(fmlc_s * 3) + fmlc_i] = std::int64_t(fmlc_bits.to_uint64());
        }
    }
    return 0;
}
}
