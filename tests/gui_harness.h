/* What the explorer's headless tests (test_gui.c, test_gui_views.c) share:
 * running `zspace gui` under Xvfb (or SDL's offscreen driver), reading its
 * script output and its screenshots. gh_init sets the globals from
 * argv (ZSPACE_EXE SOURCE_DIR) and makes the temporary directory. */
#ifndef ZS_GUI_HARNESS_H
#define ZS_GUI_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "zspace/data.h"

extern const char *g_exe, *g_src, *g_tmp;
extern char g_runner[256];   /* "xvfb-run -a -s ..." or "env SDL_VIDEODRIVER=offscreen" */

typedef struct { int x, y, w, h; } rect;

int gh_init(int argc, char **argv, const char *name);   /* 0, or 2 with a usage message */
char *slurp(const char *path);                          /* the file's text ("" when unreadable) */
void write_text(const char *path, const char *text);
/* Run a shell command line with stdout and stderr into g_tmp/TAG.out/.err,
 * read back into *out and *err; its exit status (-1 when it did not exit). */
int run_cmd(const char *tag, const char *cmdline, char **out, char **err);
char *section(const char *out, const char *tag);        /* after "echo TAG" up to the next echo */
int state_int(const char *sec, const char *key);        /* the integer after key, or -999 */
double field(const char *sec, const char *key);         /* the number after key, or NaN */
int get_rect(const char *out, const char *name, rect *r);   /* a "rect NAME x y w h" line */
int load_png(const char *name, zs_image *im);           /* g_tmp/NAME */
int max_diff(const uint8_t *a, const uint8_t *b, size_t n);
double region_diff(const zs_image *a, const zs_image *b, rect r);   /* mean |a - b| over r */

#endif
