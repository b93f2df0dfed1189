#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int zs_test_failures;
int zs_test_checks;

static char *g_logs;
static size_t g_len;

static void capture(zs_log_level level, const char *msg, void *user)
{
    size_t n = strlen(msg);
    g_logs = realloc(g_logs, g_len + n + 2);
    memcpy(g_logs + g_len, msg, n);
    g_len += n;
    g_logs[g_len++] = '\n';
    g_logs[g_len] = 0;
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "[log %d] %s\n", level, msg);
}

void zs_test_capture_logs(void) { zs_log_set_callback(capture, NULL); }
const char *zs_test_logs(void) { return g_logs ? g_logs : ""; }
void zs_test_clear_logs(void) { g_len = 0; if (g_logs) g_logs[0] = 0; }
int zs_test_logs_contain(const char *needle) { return strstr(zs_test_logs(), needle) != NULL; }

double zs_test_rel_err(const float *a, const float *b, size_t n, double floor)
{
    double maxd = 0, maxb = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= maxd)) maxd = d;   /* NaN propagates as a failure */
        if (fabs(b[i]) > maxb) maxb = fabs(b[i]);
    }
    return maxd / maxb;
}

const char *zs_test_tmpdir(void)
{
    static char dir[64];
    if (!dir[0]) {
        strcpy(dir, "/tmp/zstest.XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}
