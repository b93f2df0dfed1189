/* zspace: entry point. `zspace <command> ...` runs a CLI subcommand;
 * `zspace` alone or `zspace gui ...` opens the explorer (src/app). */
#include "app/app.h"
#include "cli.h"
#include "zspace/nn.h"

#include <stdio.h>
#include <string.h>

static const zs_cli_command commands[] = {
    {"prepare", zs_cmd_prepare, "decode a CelebA directory into a face cache (.zsf)"},
    {"train", zs_cmd_train, "train the VAE on a face cache (resumable)"},
    {"train-features", zs_cmd_train_features, "train the attribute CNN the perceptual loss compares features of"},
    {"eval", zs_cmd_eval, "reconstruction error and KL of a model on a split"},
    {"recon", zs_cmd_recon, "write photos beside their reconstructions"},
    {"export", zs_cmd_export, "write a model's weights without optimizer state (for shipping)"},
    {"encode", zs_cmd_encode, "latents (mu, logvar) of every face of a cache"},
    {"attrs", zs_cmd_attrs, "the 40 attribute vectors, their AUC and cosines"},
    {"edit", zs_cmd_edit, "add attribute vectors to photos (\"add a smile\")"},
    {"sweep", zs_cmd_sweep, "a grid of photos along one attribute vector"},
    {"mean", zs_cmd_mean, "decode the mean latent of a group of faces (--where \"Bald=yes\")"},
    {"walk", zs_cmd_walk, "an N x N grid of decodes along two attribute directions"},
    {"interp", zs_cmd_interp, "interpolate between two photos (slerp or lerp)"},
    {"sample", zs_cmd_sample, "decode random samples (isotropic or dataset-fitted)"},
    {"stats", zs_cmd_stats, "statistics of the latent cloud: spreads, correlations, norms (CSV and PNG)"},
    {"judge", zs_cmd_judge, "how well an attribute edit works, judged on held-out faces"},
    {"gui", zs_cmd_gui, "open the explorer window (also: zspace with no arguments)"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "zspace %s - explore the latent space of a face VAE\n\n"
            "usage: zspace [gui options]         (opens the explorer; zspace gui --help for them)\n"
            "       zspace <command> [options]   (zspace <command> --help for its options)\n\ncommands:\n",
            ZS_VERSION);
    for (int i = 0; i < NCOMMANDS; i++) fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

/* argv[0] is "gui", options follow */
static int run_gui(int argc, char **argv)
{
    int rc = zs_cmd_gui(argc, argv);
    if (rc == ZS_APP_NO_DISPLAY) {
        usage(stderr);
        return 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    zs_blas_init();
    if (argc < 2) {
        char *gui_argv[] = {"gui", NULL};
        return run_gui(1, gui_argv);
    }
    if (strcmp(argv[1], "gui") == 0) return run_gui(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("zspace %s (OpenBLAS kernel %s, %s inference tiles)\n", ZS_VERSION, zs_blas_core(),
               zs_nn_wide_tiles() ? "AVX-512" : "AVX2");
        return 0;
    }
    if (argv[1][0] == '-') {   /* "zspace --photo me.jpg": the explorer's options without the word gui */
        argv[0] = "gui";
        return run_gui(argc, argv);
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "zspace: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
