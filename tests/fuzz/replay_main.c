/* Runs a fuzz target's LLVMFuzzerTestOneInput once on every file named on
 * the command line (directories: every file in them), without libFuzzer:
 * the normal build's ctest replays the committed corpora, crashers kept as
 * regress-* included, through the same checks (tests/fuzz/replay.cmake).
 * Exits non-zero when a directory holds no file; a failed check aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        exit(1);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (size_t k; (k = fread(b + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    uint8_t *exact = malloc(n ? n : 1);   /* exactly n bytes, so ASan sees a read past the input */
    memcpy(exact, b, n);
    free(b);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 1;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            total += run_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        char **names = NULL;
        int n = 0;
        for (struct dirent *e; d && (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            names = realloc(names, sizeof *names * (size_t)(n + 1));
            names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
            sprintf(names[n++], "%s/%s", argv[i], e->d_name);
        }
        if (d) closedir(d);
        if (n == 0) {
            fprintf(stderr, "replay: no inputs in %s\n", argv[i]);
            return 1;
        }
        qsort(names, (size_t)n, sizeof *names, cmp);
        for (int k = 0; k < n; k++) {
            total += run_file(names[k]);
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %d inputs\n", total);
    return total > 0 ? 0 : 1;
}
