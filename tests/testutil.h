/* Minimal test helpers: CHECK prints file:line and the failed expression,
 * counts failures, and TEST_END returns non-zero if any failed. */
#ifndef ZS_TESTUTIL_H
#define ZS_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include "zspace/core.h"

extern int zs_test_failures;
extern int zs_test_checks;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        zs_test_checks++;                                                            \
        if (!(cond)) {                                                               \
            zs_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECKF(cond, ...)                                                            \
    do {                                                                             \
        zs_test_checks++;                                                            \
        if (!(cond)) {                                                               \
            zs_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
        }                                                                            \
    } while (0)

#define TEST_END()                                                                   \
    do {                                                                             \
        fprintf(stderr, "%d checks, %d failed\n", zs_test_checks, zs_test_failures); \
        return zs_test_failures ? 1 : 0;                                             \
    } while (0)

/* Log capture: every zs_log message is appended here (newline separated),
 * so a test can assert which error fired. */
void zs_test_capture_logs(void);
const char *zs_test_logs(void);
void zs_test_clear_logs(void);
int zs_test_logs_contain(const char *needle);

/* Relative difference max|a-b| / max(max|b|, floor). */
double zs_test_rel_err(const float *a, const float *b, size_t n, double floor);
/* A fresh temporary directory (removed by the caller or left in /tmp). */
const char *zs_test_tmpdir(void);

#endif
