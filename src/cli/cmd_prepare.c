#include "cli.h"
int zs_cmd_prepare(int argc, char **argv) { fprintf(stderr, "zspace prepare: not built yet\n"); return 2; }
