/* Where the explorer's own files are (see app_impl.h). The build passes
 * the source tree's directories as ZS_SHADER_DIR, ZS_ASSET_DIR and
 * ZS_DATA_DIR; an installed program
 * finds them in <prefix>/share/zspace from /proc/self/exe. */
#include "app_impl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void join(char *out, const char *root, const char *sub)
{
    if (snprintf(out, PATH_MAX, "%s/%s", root, sub) >= PATH_MAX) out[0] = 0;   /* too long: found nowhere */
}

static void set_root(zs_app_paths *p, const char *root)
{
    join(p->shaders, root, "shaders");
    join(p->assets, root, "assets");
    join(p->data, root, "data");
}

static int has_shaders(const char *root)
{
    char f[PATH_MAX];
    join(f, root, "shaders/quad.vert");
    return f[0] && access(f, R_OK) == 0;
}

void zs_app_find_paths(zs_app_paths *p, const char *data_dir)
{
    if (data_dir) {
        set_root(p, data_dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');   /* <prefix>/bin/zspace -> <prefix> */
        if (slash) *slash = 0;
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char share[PATH_MAX + 16];
            snprintf(share, sizeof share, "%s/share/zspace", exe);
            if (has_shaders(share)) {
                set_root(p, share);
                return;
            }
        }
    }
#if defined(ZS_SHADER_DIR) && defined(ZS_ASSET_DIR) && defined(ZS_DATA_DIR)
    snprintf(p->shaders, sizeof p->shaders, "%s", ZS_SHADER_DIR);
    snprintf(p->assets, sizeof p->assets, "%s", ZS_ASSET_DIR);
    snprintf(p->data, sizeof p->data, "%s", ZS_DATA_DIR);
#else
    set_root(p, ".");
#endif
}
