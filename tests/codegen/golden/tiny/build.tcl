# Vitis HLS project tiny: run `vitis_hls -f build.tcl` in this folder.
set root [file dirname [file normalize [info script]]]
cd $root
open_project -reset tiny_prj
set_top tiny
add_files firmware/tiny.cpp -cflags "-std=c++14"
add_files -tb tb/tb_tiny.cpp -cflags "-std=c++14 -I$root/firmware"
add_files -tb tb/tb_input.txt
open_solution -reset solution1
set_part {xcvu13p-flga2577-2-e}
create_clock -period 5.0 -name default
csim_design
csynth_design
exit
