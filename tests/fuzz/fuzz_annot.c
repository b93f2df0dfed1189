/* libFuzzer target: CelebA annotation files (tests/fuzz/README.md).
 *
 * The bytes go to both in-memory parsers, zs_attr_parse (list_attr_celeba.txt
 * and Kaggle's list_attr_celeba.csv; the format is detected from the
 * content) and zs_partition_parse (list_eval_partition .txt / .csv), exactly
 * as zs_index_open hands them a file it has read. Besides what the
 * sanitizers catch, every result is checked:
 *   - failure: a message naming the file, and an empty zs_annot;
 *   - success: rows > 0, ids NUL-terminated, non-empty, without '/' or
 *     control characters, unique; attributes -1/+1, partitions 0..2;
 *   - an accepted attribute table written back out as list_attr_celeba.txt
 *     (CRLF, official column order) and as the Kaggle CSV (LF, columns
 *     reversed) parses to the same table, and so does a partition table
 *     written as .txt and as .csv. */
#include "zspace/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz-input"

#define REQUIRE(c)                                                                      \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "fuzz_annot: check failed: %s (line %d); last error: %s\n", \
                    #c, __LINE__, zs_last_error());                                     \
            abort();                                                                    \
        }                                                                               \
    } while (0)

typedef struct buf { char *p; size_t n, cap; } buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        REQUIRE(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

static void check_table(const zs_annot *a, int attrs)
{
    REQUIRE(a->n > 0 && a->id);
    REQUIRE(attrs ? a->attr && !a->part : a->part && !a->attr);
    char(*ids)[ZS_ID_BYTES] = malloc(sizeof *ids * (size_t)a->n);
    REQUIRE(ids);
    for (int i = 0; i < a->n; i++) {
        size_t len = strnlen(a->id[i], ZS_ID_BYTES);
        REQUIRE(len > 0 && len < ZS_ID_BYTES);
        for (size_t k = 0; k < len; k++) {
            unsigned char ch = (unsigned char)a->id[i][k];
            REQUIRE(ch >= 0x20 && ch != 0x7f && ch != '/');
        }
        for (size_t k = len; k < ZS_ID_BYTES; k++) REQUIRE(a->id[i][k] == 0);
        memcpy(ids[i], a->id[i], ZS_ID_BYTES);
        if (attrs)
            for (int k = 0; k < ZS_NATTR; k++) REQUIRE(a->attr[(size_t)i * ZS_NATTR + k] == 1 ||
                                                       a->attr[(size_t)i * ZS_NATTR + k] == -1);
        else
            REQUIRE(a->part[i] >= 0 && a->part[i] <= 2);
    }
    qsort(ids, (size_t)a->n, ZS_ID_BYTES, cmp_id);
    for (int i = 1; i < a->n; i++) REQUIRE(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

static void check_failed(const zs_annot *a)
{
    REQUIRE(a->n == 0 && !a->id && !a->attr && !a->part);
    REQUIRE(strncmp(zs_last_error(), NAME, strlen(NAME)) == 0);
}

static void same_table(const zs_annot *a, const zs_annot *b)
{
    REQUIRE(a->n == b->n);
    REQUIRE(memcmp(a->id, b->id, (size_t)a->n * ZS_ID_BYTES) == 0);
    if (a->attr) REQUIRE(b->attr && memcmp(a->attr, b->attr, (size_t)a->n * ZS_NATTR) == 0);
    if (a->part) REQUIRE(b->part && memcmp(a->part, b->part, (size_t)a->n) == 0);
}

static void roundtrip_attr(const zs_annot *a)
{
    char line[64];
    for (int form = 0; form < 2; form++) {
        buf b = {0};
        if (form == 0) {   /* official .txt: count, names, rows; CRLF, padded values */
            snprintf(line, sizeof line, "%d\r\n", a->n);
            puts_(&b, line);
            for (int k = 0; k < ZS_NATTR; k++) {
                puts_(&b, zs_attr_names[k]);
                puts_(&b, " ");
            }
            puts_(&b, "\r\n");
            for (int i = 0; i < a->n; i++) {
                puts_(&b, a->id[i]);
                for (int k = 0; k < ZS_NATTR; k++) puts_(&b, a->attr[(size_t)i * ZS_NATTR + k] > 0 ? "  1" : " -1");
                puts_(&b, "\r\n");
            }
        } else {   /* Kaggle .csv with the columns reversed */
            puts_(&b, "image_id");
            for (int k = ZS_NATTR - 1; k >= 0; k--) {
                puts_(&b, ",");
                puts_(&b, zs_attr_names[k]);
            }
            puts_(&b, "\n");
            for (int i = 0; i < a->n; i++) {
                puts_(&b, a->id[i]);
                for (int k = ZS_NATTR - 1; k >= 0; k--) puts_(&b, a->attr[(size_t)i * ZS_NATTR + k] > 0 ? ",1" : ",-1");
                puts_(&b, "\n");
            }
        }
        zs_annot r;
        zs_status st = zs_attr_parse(&r, NAME, b.p, b.n);
        REQUIRE(st == ZS_OK);
        same_table(a, &r);
        zs_annot_free(&r);
        free(b.p);
    }
}

static void roundtrip_part(const zs_annot *a)
{
    char line[64];
    for (int form = 0; form < 2; form++) {
        buf b = {0};
        if (form == 1) puts_(&b, "image_id,partition\n");
        for (int i = 0; i < a->n; i++) {
            snprintf(line, sizeof line, form ? ",%d\n" : " %d\r\n", a->part[i]);
            puts_(&b, a->id[i]);
            puts_(&b, line);
        }
        zs_annot r;
        zs_status st = zs_partition_parse(&r, NAME, b.p, b.n);
        REQUIRE(st == ZS_OK);
        same_table(a, &r);
        zs_annot_free(&r);
        free(b.p);
    }
}

/* An id that the writers above cannot reproduce: one that the whitespace
 * tokenizer would split or the CSV splitter would cut or unquote. */
static int id_survives(const char *id)
{
    size_t n = strlen(id);
    if (strpbrk(id, " \t\v\f\r,")) return 0;
    if (n >= 2 && id[0] == '"' && id[n - 1] == '"') return 0;
    if (strcmp(id, "image_id") == 0) return 0;   /* would read as a CSV header */
    return 1;
}

static int ids_survive(const zs_annot *a)
{
    for (int i = 0; i < a->n; i++)
        if (!id_survives(a->id[i])) return 0;
    /* "\xEF\xBB\xBF..." at the start would be taken for a byte order mark */
    return memcmp(a->id[0], "\xEF\xBB\xBF", 3) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    zs_annot a;
    if (zs_attr_parse(&a, NAME, text, size) == ZS_OK) {
        check_table(&a, 1);
        if (ids_survive(&a)) roundtrip_attr(&a);
    } else {
        check_failed(&a);
    }
    zs_annot_free(&a);

    if (zs_partition_parse(&a, NAME, text, size) == ZS_OK) {
        check_table(&a, 0);
        if (ids_survive(&a)) roundtrip_part(&a);
    } else {
        check_failed(&a);
    }
    zs_annot_free(&a);
    return 0;
}
