// Testbench of tiny: tb_input.txt (floats, one sample per line) -> tb_output.txt.
#include <fstream>
#include <iostream>
#include "tiny.h"

static int fmlc_step(std::ifstream& fmlc_fin, std::ofstream& fmlc_fout) {
    double fmlc_v = 0.0;
    fixed_8_3_rnd_conv_sat_t fmlc_x0[4];
    for (int fmlc_i = 0; fmlc_i < 4; fmlc_i++) {
        fmlc_fin >> fmlc_v;
        fmlc_x0[fmlc_i] = fixed_8_3_rnd_conv_sat_t(fmlc_v);
    }
    ufixed_8_3_rnd_conv_sat_t fmlc_y0[3];
    if (!fmlc_fin) {
        return 0;
    }
    tiny(fmlc_x0, fmlc_y0);
    for (int fmlc_i = 0; fmlc_i < 3; fmlc_i++) {
        if (fmlc_i > 0) {
            fmlc_fout << " ";
        }
        fmlc_fout << fmlc_y0[fmlc_i].to_double();
    }
    fmlc_fout << "\n";
    return 1;
}

int main() {
    std::ifstream fmlc_fin;
    std::ofstream fmlc_fout;
    // tb/tb_input.txt from the project folder, else tb_input.txt here (Vitis C simulation)
    fmlc_fin.open("tb/tb_input.txt");
    if (fmlc_fin.is_open()) {
        fmlc_fout.open("tb/tb_output.txt");
    }
    if (!fmlc_fin.is_open()) {
        fmlc_fin.open("tb_input.txt");
        if (fmlc_fin.is_open()) {
            fmlc_fout.open("tb_output.txt");
        }
    }
    if (!fmlc_fout.is_open()) {
        std::cerr << "error: cannot open tb/tb_input.txt or tb_input.txt (and its output)\n";
        return 1;
    }
    fmlc_fout.precision(17);
    // one sample per iteration until the input ends
    int fmlc_more = 1;
    for (int fmlc_k = 0; fmlc_k < fmlc_more; fmlc_k++) {
        fmlc_more += fmlc_step(fmlc_fin, fmlc_fout);
    }
    return 0;
}
