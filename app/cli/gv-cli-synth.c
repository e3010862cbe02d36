/* placeholder */ typedef int gv_ph_gv_cli_synth;
