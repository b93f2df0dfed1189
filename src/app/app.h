/*
 * app.h - the explorer: `zspace` with no arguments, or `zspace gui`.
 *
 *     return zs_app_run(&(zs_app_desc){.model = "my.safetensors"});   // zero: defaults
 *
 * Defaults come from the explorer's data directory (see paths.c):
 * data/default.safetensors, data/gallery.zsf, data/attrs.safetensors.
 */
#ifndef ZS_APP_APP_H
#define ZS_APP_APP_H

/* zs_app_run's exit code when no window can be opened (no display). */
#define ZS_APP_NO_DISPLAY 3

typedef struct zs_app_desc {
    const char *model, *gallery, *attrs;   /* NULL: the shipped files */
    const char *data_dir;                  /* NULL: next to the executable */
    const char *photo;                     /* open the Photo tab on this image */
    int width, height;                     /* logical pixels; 0: the session's, else 1280 x 800 */
    float ui_scale;                        /* 0: $ZS_UI_SCALE or 1; the window is width * ui_scale screen units */
    const char *session;                   /* NULL: $XDG_CONFIG_HOME/zspace/session (none in test mode) */
    const char *train_data;                /* the Train tab trains on this cache's train split (NULL: the gallery) */
    int train_batch;                       /* 0: 64 */
    int train_threads;                     /* 0: every core (at nice train_nice) */
    int train_nice;                        /* the trainer's nice level; 0: 10, negative: none */
    int train_static;                      /* a fixed slice of each batch per trainer thread */
    /* test mode */
    const char *script;                    /* replay this file's synthetic events */
    const char *screenshot;                /* PNG of the last frame */
    int frames;                            /* quit after this many frames (0: never) */
    int decode_delay_ms;                   /* the worker sleeps this long after each decode */
    /* --bench: drive the Smiling slider for bench_seconds with training on, print figures, quit */
    int bench, bench_idle;                 /* bench_idle: the same, the sliders left alone */
    double bench_seconds;                  /* 0: 10 */
} zs_app_desc;

int zs_app_run(const zs_app_desc *d);
/* `zspace gui [options]`: parses argv (argv[0] is "gui") and runs. */
int zs_cmd_gui(int argc, char **argv);

#endif
