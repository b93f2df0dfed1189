/* CelebA annotation parsing: list_attr_celeba.txt (count line, names line,
 * CRLF, padded values), Kaggle's list_attr_celeba.csv (any column order),
 * list_eval_partition.txt/.csv, and every malformed case we reject with a
 * message naming the file and the line. */
#include "testutil.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>

/* A growing text buffer. */
typedef struct { char *s; size_t n, cap; } sbuf;
static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->cap - b->n, fmt, ap);   /* NULL + 0 is UB */
        va_end(ap);
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)k + 64;
        b->s = realloc(b->s, b->cap);
    }
}

static int val(int row, int a) { return (row * 13 + a * 5) % 7 < 3 ? 1 : -1; }

/* The official .txt layout: count, names (trailing space), rows with two
 * spaces before positive values, CRLF. */
static sbuf attr_txt(int rows, int count_line, const char *eol)
{
    sbuf b = {0};
    put(&b, "%d%s", count_line, eol);
    for (int a = 0; a < ZS_NATTR; a++) put(&b, "%s ", zs_attr_names[a]);
    put(&b, "%s", eol);
    for (int r = 1; r <= rows; r++) {
        put(&b, "%06d.jpg", r);
        for (int a = 0; a < ZS_NATTR; a++) put(&b, val(r, a) > 0 ? "  1" : " -1");
        put(&b, "%s", eol);
    }
    return b;
}

/* Kaggle .csv with the columns in the order perm[] (file column k holds
 * attribute perm[k]). */
static sbuf attr_csv(int rows, const int *perm)
{
    sbuf b = {0};
    put(&b, "image_id");
    for (int k = 0; k < ZS_NATTR; k++) put(&b, ",%s", zs_attr_names[perm[k]]);
    put(&b, "\n");
    for (int r = 1; r <= rows; r++) {
        put(&b, "%06d.jpg", r);
        for (int k = 0; k < ZS_NATTR; k++) put(&b, ",%d", val(r, perm[k]));
        put(&b, "\n");
    }
    return b;
}

static int rows_ok(const zs_annot *a, int rows)
{
    if (a->n != rows || !a->attr || a->part) return 0;
    for (int r = 0; r < rows; r++) {
        char id[32];
        snprintf(id, sizeof id, "%06d.jpg", r + 1);
        if (strcmp(a->id[r], id) != 0) return 0;
        for (int k = 0; k < ZS_NATTR; k++)
            if (a->attr[(size_t)r * ZS_NATTR + k] != val(r + 1, k)) return 0;
    }
    return 1;
}

/* Parse `text` and expect failure with a message containing each needle. */
static void expect_attr_error(const char *text, const char *n1, const char *n2)
{
    zs_annot a;
    zs_status st = zs_attr_parse(&a, "bad_attr.txt", text, strlen(text));
    CHECKF(st == ZS_ERR_FORMAT, "status %d for:\n%.200s", st, text);
    CHECKF(strstr(zs_last_error(), "bad_attr.txt"), "message: %s", zs_last_error());
    if (n1) CHECKF(strstr(zs_last_error(), n1), "message '%s' lacks '%s'", zs_last_error(), n1);
    if (n2) CHECKF(strstr(zs_last_error(), n2), "message '%s' lacks '%s'", zs_last_error(), n2);
    CHECK(a.n == 0 && a.id == NULL && a.attr == NULL);
}

static void expect_part_error(const char *text, const char *n1, const char *n2)
{
    zs_annot a;
    zs_status st = zs_partition_parse(&a, "bad_part.txt", text, strlen(text));
    CHECKF(st == ZS_ERR_FORMAT, "status %d for:\n%.200s", st, text);
    CHECKF(strstr(zs_last_error(), "bad_part.txt"), "message: %s", zs_last_error());
    if (n1) CHECKF(strstr(zs_last_error(), n1), "message '%s' lacks '%s'", zs_last_error(), n1);
    if (n2) CHECKF(strstr(zs_last_error(), n2), "message '%s' lacks '%s'", zs_last_error(), n2);
    CHECK(a.n == 0 && a.id == NULL && a.part == NULL);
}

static void test_names(void)
{
    CHECK(zs_attr_find("5_o_Clock_Shadow") == 0);
    CHECK(zs_attr_find("Smiling") == 31);
    CHECK(zs_attr_find("Young") == 39);
    CHECK(zs_attr_find("Male") == 20);
    CHECK(zs_attr_find("smiling") == -1);
    CHECK(strcmp(zs_split_name(ZS_SPLIT_TRAIN), "train") == 0);
    CHECK(strcmp(zs_split_name(ZS_SPLIT_VAL), "val") == 0);
    CHECK(strcmp(zs_split_name(ZS_SPLIT_TEST), "test") == 0);
    CHECK(strcmp(zs_split_name(ZS_SPLIT_ALL), "all") == 0);
}

static void test_attr_txt(void)
{
    const char *eols[] = {"\r\n", "\n"};
    for (int e = 0; e < 2; e++) {
        sbuf b = attr_txt(50, 50, eols[e]);
        zs_annot a;
        CHECKF(zs_attr_parse(&a, "list_attr_celeba.txt", b.s, b.n) == ZS_OK, "%s", zs_last_error());
        CHECK(rows_ok(&a, 50));
        zs_annot_free(&a);
        /* no final newline, blank lines in between and at the end */
        b.n -= strlen(eols[e]);
        b.s[b.n] = 0;
        CHECK(zs_attr_parse(&a, "x.txt", b.s, b.n) == ZS_OK && rows_ok(&a, 50));
        zs_annot_free(&a);
        free(b.s);
    }
    /* tabs and leading spaces, +1 accepted */
    sbuf b = attr_txt(3, 3, "\n");
    char *t = malloc(b.n + 3);
    memcpy(t, b.s, b.n + 1);
    char *row2 = strstr(t, "000002.jpg");
    memmove(row2 + 2, row2, strlen(row2) + 1);
    row2[0] = ' ';
    row2[1] = '\t';
    zs_annot a;
    CHECKF(zs_attr_parse(&a, "x.txt", t, strlen(t)) == ZS_OK, "%s", zs_last_error());
    CHECK(rows_ok(&a, 3));
    zs_annot_free(&a);
    free(t);
    free(b.s);
    /* a UTF-8 byte order mark is skipped */
    b = attr_txt(2, 2, "\r\n");
    sbuf bom = {0};
    put(&bom, "\xEF\xBB\xBF%s", b.s);
    CHECK(zs_attr_parse(&a, "bom.txt", bom.s, bom.n) == ZS_OK && rows_ok(&a, 2));
    zs_annot_free(&a);
    free(bom.s);
    free(b.s);
}

static void test_attr_csv(void)
{
    int perm[ZS_NATTR];
    for (int k = 0; k < ZS_NATTR; k++) perm[k] = k;
    sbuf b = attr_csv(40, perm);
    zs_annot a;
    CHECKF(zs_attr_parse(&a, "list_attr_celeba.csv", b.s, b.n) == ZS_OK, "%s", zs_last_error());
    CHECK(rows_ok(&a, 40));
    zs_annot_free(&a);
    free(b.s);
    /* columns reordered: reversed, and a rotation; stored in the official order */
    for (int k = 0; k < ZS_NATTR; k++) perm[k] = ZS_NATTR - 1 - k;
    b = attr_csv(40, perm);
    CHECKF(zs_attr_parse(&a, "rev.csv", b.s, b.n) == ZS_OK, "%s", zs_last_error());
    CHECK(rows_ok(&a, 40));
    zs_annot_free(&a);
    free(b.s);
    for (int k = 0; k < ZS_NATTR; k++) perm[k] = (k + 17) % ZS_NATTR;
    b = attr_csv(40, perm);
    CHECK(zs_attr_parse(&a, "rot.csv", b.s, b.n) == ZS_OK && rows_ok(&a, 40));
    zs_annot_free(&a);
    free(b.s);
    /* columns reordered in the .txt form too */
    sbuf t = {0};
    put(&t, "2\n");
    for (int k = 0; k < ZS_NATTR; k++) put(&t, "%s ", zs_attr_names[perm[k]]);
    put(&t, "\n");
    for (int r = 1; r <= 2; r++) {
        put(&t, "%06d.jpg", r);
        for (int k = 0; k < ZS_NATTR; k++) put(&t, " %d", val(r, perm[k]));
        put(&t, "\n");
    }
    CHECK(zs_attr_parse(&a, "rot.txt", t.s, t.n) == ZS_OK && rows_ok(&a, 2));
    zs_annot_free(&a);
    free(t.s);
    /* CRLF and spaces around fields */
    for (int k = 0; k < ZS_NATTR; k++) perm[k] = k;
    sbuf c = {0};
    put(&c, "image_id");
    for (int k = 0; k < ZS_NATTR; k++) put(&c, ", %s", zs_attr_names[k]);
    put(&c, "\r\n");
    for (int r = 1; r <= 3; r++) {
        put(&c, "\"%06d.jpg\"", r);
        for (int k = 0; k < ZS_NATTR; k++) put(&c, ", %d ", val(r, k));
        put(&c, "\r\n");
    }
    CHECKF(zs_attr_parse(&a, "crlf.csv", c.s, c.n) == ZS_OK, "%s", zs_last_error());
    CHECK(rows_ok(&a, 3));
    zs_annot_free(&a);
    free(c.s);
}

/* Replace the first occurrence of `from` in a copy of text by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p) abort();
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
    return out;
}

static void test_attr_errors(void)
{
    sbuf b = attr_txt(5, 5, "\r\n");
    char *t;
    /* a value that is not -1/1, on line 5 (the third row) */
    t = edit(b.s, val(3, 0) > 0 ? "000003.jpg  1" : "000003.jpg -1", "000003.jpg  2");
    expect_attr_error(t, "line 5", "is not -1 or 1");
    free(t);
    /* a missing value on line 4 */
    t = edit(b.s, "000002.jpg", "000002.jpg\r\n000002b.jpg");
    expect_attr_error(t, "line 4", "attribute values, expected 40");
    free(t);
    /* one value too many on line 7 (the last row) */
    sbuf c = attr_txt(5, 5, "\n");
    c.s[c.n - 1] = 0;
    sbuf d = {0};
    put(&d, "%s 1\n", c.s);
    expect_attr_error(d.s, "line 7", "41 attribute values");
    free(d.s);
    free(c.s);
    /* count line not a number */
    t = edit(b.s, "5\r\n", "five\r\n");
    expect_attr_error(t, "line 1", "number of images");
    free(t);
    /* count mismatch: line 1 says 6, there are 5 rows */
    t = edit(b.s, "5\r\n", "6\r\n");
    expect_attr_error(t, "line 1", "6 images");
    free(t);
    /* unknown attribute name */
    t = edit(b.s, "Smiling", "Smirking");
    expect_attr_error(t, "line 2", "unknown attribute name 'Smirking'");
    free(t);
    /* duplicated name */
    t = edit(b.s, "Smiling", "Young");
    expect_attr_error(t, "line 2", "appears twice");
    free(t);
    /* 39 names */
    t = edit(b.s, "Smiling ", "");
    expect_attr_error(t, "line 2", "39 attribute names");
    free(t);
    /* image listed twice (rows out of order too) */
    t = edit(b.s, "000004.jpg", "000001.jpg");
    expect_attr_error(t, "listed twice", "line 6");
    free(t);
    /* id too long / with a slash */
    t = edit(b.s, "000004.jpg", "0000000000000000000000000000000004.jpg");
    expect_attr_error(t, "line 6", "longer than 31");
    free(t);
    t = edit(b.s, "000004.jpg", "../00004.jpg");
    expect_attr_error(t, "line 6", "'/'");
    free(t);
    /* empty file, header only, a random text file */
    expect_attr_error("", "empty", NULL);
    expect_attr_error("\r\n\r\n", "empty", NULL);
    /* a header and no rows */
    const char *names = strstr(b.s, "5_o"), *cut = strstr(b.s, "000001.jpg");
    sbuf h = {0};
    put(&h, "0\r\n%.*s", (int)(cut - names), names);
    expect_attr_error(h.s, "no attribute rows", NULL);
    free(h.s);
    expect_attr_error("hello world\nthis is not celeba\n", "line 1", NULL);
    /* a partition file given as attributes */
    expect_attr_error("000001.jpg 0\r\n000002.jpg 1\r\n", "line 1", NULL);
    /* csv: a bad value, short row, bad header */
    int perm[ZS_NATTR];
    for (int k = 0; k < ZS_NATTR; k++) perm[k] = k;
    sbuf cs = attr_csv(4, perm);
    t = edit(cs.s, "000003.jpg,", "000003.jpg,x");
    expect_attr_error(t, "line 4", "is not -1 or 1");
    free(t);
    t = edit(cs.s, "000002.jpg,", "000002.jpg");
    expect_attr_error(t, "line 3", NULL);
    free(t);
    t = edit(cs.s, ",Young", "");
    expect_attr_error(t, "line 1", "39 attribute names");
    free(t);
    free(cs.s);
    free(b.s);
}

static void test_partition(void)
{
    const char *txt = "000001.jpg 0\r\n000002.jpg 0\r\n\r\n000003.jpg   1\r\n000004.jpg\t2\r\n";
    zs_annot a;
    CHECKF(zs_partition_parse(&a, "list_eval_partition.txt", txt, strlen(txt)) == ZS_OK, "%s", zs_last_error());
    CHECK(a.n == 4 && a.part && !a.attr);
    CHECK(a.n == 4 && strcmp(a.id[3], "000004.jpg") == 0);
    CHECK(a.n == 4 && a.part[0] == 0 && a.part[1] == 0 && a.part[2] == 1 && a.part[3] == 2);
    zs_annot_free(&a);
    const char *csv = "image_id,partition\n000001.jpg,0\n000003.jpg,2\n000002.jpg,1";
    CHECKF(zs_partition_parse(&a, "list_eval_partition.csv", csv, strlen(csv)) == ZS_OK, "%s", zs_last_error());
    CHECK(a.n == 3 && strcmp(a.id[1], "000003.jpg") == 0 && a.part[1] == 2 && a.part[2] == 1);   /* file order kept */
    zs_annot_free(&a);
    expect_part_error("000001.jpg 0\n000002.jpg 3\n", "line 2", "is not 0 (train), 1 (val) or 2 (test)");
    expect_part_error("000001.jpg 0\n000002.jpg\n", "line 2", "1 fields, expected 2");
    expect_part_error("000001.jpg 0\n000002.jpg 1 1\n", "line 2", "3 fields");
    expect_part_error("000001.jpg 0\r\n000002.jpg -1\r\n", "line 2", NULL);
    expect_part_error("image_id,split\n000001.jpg,0\n", "line 1", "image_id,partition");
    expect_part_error("image_id,partition\n000001.jpg,0\n000002.jpg;1\n", "line 3", NULL);
    expect_part_error("000001.jpg 0\n000002.jpg 1\n000001.jpg 2\n", "listed twice", "line 3");
    expect_part_error("", "no partition rows", NULL);
    expect_part_error("image_id,partition\r\n", "no partition rows", NULL);
}

int main(void)
{
    zs_test_capture_logs();
    test_names();
    test_attr_txt();
    test_attr_csv();
    test_attr_errors();
    test_partition();
    TEST_END();
}
