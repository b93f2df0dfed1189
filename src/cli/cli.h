/* Command-line front end: one function per subcommand (cmd_*.c), a table in
 * main.c, and a few argument helpers shared by all of them. The commands are
 * thin: each computation is a libzspace call that the tests also make. */
#ifndef ZS_CLI_H
#define ZS_CLI_H

#include <signal.h>

#include "zspace/core.h"
#include "zspace/data.h"

typedef struct zs_cli_command {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    const char *summary;
} zs_cli_command;

/* Subcommands (each in src/cli/cmd_<name>.c). Return a process exit code. */
int zs_cmd_prepare(int argc, char **argv);
int zs_cmd_train(int argc, char **argv);
int zs_cmd_eval(int argc, char **argv);
int zs_cmd_recon(int argc, char **argv);
int zs_cmd_export(int argc, char **argv);
int zs_cmd_encode(int argc, char **argv);
int zs_cmd_attrs(int argc, char **argv);
int zs_cmd_edit(int argc, char **argv);
int zs_cmd_sweep(int argc, char **argv);
int zs_cmd_interp(int argc, char **argv);
int zs_cmd_sample(int argc, char **argv);
int zs_cmd_judge(int argc, char **argv);
int zs_cmd_train_features(int argc, char **argv);
int zs_cmd_stats(int argc, char **argv);
int zs_cmd_walk(int argc, char **argv);
int zs_cmd_mean(int argc, char **argv);

/* Argument helpers: "--flag value" and "--flag=value" forms. Each returns 1
 * if argv[*i] matched (advancing *i past a separate value), 0 otherwise;
 * on a missing or malformed value it prints a message and sets *bad. */
int zs_arg_str(int argc, char **argv, int *i, const char *flag, const char **out, int *bad);
int zs_arg_int(int argc, char **argv, int *i, const char *flag, long *out, int *bad);
int zs_arg_float(int argc, char **argv, int *i, const char *flag, double *out, int *bad);
int zs_arg_flag(char **argv, int i, const char *flag);
/* --split NAME (train, val, test, all) into *out; 0 with a message naming cmd if unknown. */
int zs_arg_split(const char *cmd, const char *name, zs_data_split *out);

/* Ctrl-C / SIGTERM set zs_cli_interrupted (a long command saves and stops). */
extern volatile sig_atomic_t zs_cli_interrupted;
void zs_cli_catch_interrupt(void);

/* Progress line on a terminal (rate and ETA); silent when stderr is not a tty
 * unless forced. */
typedef struct zs_progress { const char *label; size_t total; double t0, last; int tty; } zs_progress;
void zs_progress_start(zs_progress *p, const char *label, size_t total);
void zs_progress_update(zs_progress *p, size_t done, const char *extra);
void zs_progress_end(zs_progress *p, size_t done, const char *extra);

#endif
