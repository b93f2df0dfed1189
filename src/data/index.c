/* CelebA annotations (attributes, partition) and their join with the images
 * that exist on disk (see zspace/data.h).
 *
 * The parsers take the whole file in memory and never trust it: every row is
 * checked for its field count and every value for its range, and the first
 * problem is reported with the file name and line number. */
#include "data_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *const zs_attr_names[ZS_NATTR] = {
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive",     "Bags_Under_Eyes",     "Bald",
    "Bangs",            "Big_Lips",        "Big_Nose",       "Black_Hair",          "Blond_Hair",
    "Blurry",           "Brown_Hair",      "Bushy_Eyebrows", "Chubby",              "Double_Chin",
    "Eyeglasses",       "Goatee",          "Gray_Hair",      "Heavy_Makeup",        "High_Cheekbones",
    "Male",             "Mouth_Slightly_Open", "Mustache",   "Narrow_Eyes",         "No_Beard",
    "Oval_Face",        "Pale_Skin",       "Pointy_Nose",    "Receding_Hairline",   "Rosy_Cheeks",
    "Sideburns",        "Smiling",         "Straight_Hair",  "Wavy_Hair",           "Wearing_Earrings",
    "Wearing_Hat",      "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie",  "Young",
};

int zs_attr_find(const char *name)
{
    for (int i = 0; i < ZS_NATTR; i++)
        if (strcmp(zs_attr_names[i], name) == 0) return i;
    return -1;
}

const char *zs_split_name(zs_data_split s)
{
    switch (s) {
    case ZS_SPLIT_TRAIN: return "train";
    case ZS_SPLIT_VAL: return "val";
    case ZS_SPLIT_TEST: return "test";
    case ZS_SPLIT_ALL: return "all";
    }
    return "?";
}

/* ---- tokenizer ---------------------------------------------------------------- */
typedef struct { const char *s; int n; } tok;
#define MAX_FIELDS 64   /* more than any valid row; the excess is still counted */

typedef struct cursor {
    const char *p, *end;
    int line;
} cursor;

/* Next line without its CR/LF; 0 at the end of the text. */
static int next_line(cursor *c, const char **s, const char **e)
{
    if (c->p >= c->end) return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    const char *stop = nl ? nl : c->end;
    *s = c->p;
    *e = stop;
    while (*e > *s && (*e)[-1] == '\r') (*e)--;
    c->p = nl ? nl + 1 : c->end;
    c->line++;
    return 1;
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

/* Split a line on whitespace (csv = 0) or commas (csv = 1, fields trimmed
 * and unquoted). Returns the number of fields, which may exceed MAX_FIELDS
 * (only the first MAX_FIELDS are stored). */
static int split_fields(const char *s, const char *e, int csv, tok *f)
{
    int n = 0;
    if (!csv) {
        while (s < e) {
            while (s < e && is_space(*s)) s++;
            if (s >= e) break;
            const char *b = s;
            while (s < e && !is_space(*s)) s++;
            if (n < MAX_FIELDS) f[n] = (tok){b, (int)(s - b)};
            n++;
        }
        return n;
    }
    for (;;) {
        const char *b = s;
        while (s < e && *s != ',') s++;
        const char *fe = s;
        while (b < fe && is_space(*b)) b++;
        while (fe > b && is_space(fe[-1])) fe--;
        if (fe - b >= 2 && *b == '"' && fe[-1] == '"') b++, fe--;
        if (n < MAX_FIELDS) f[n] = (tok){b, (int)(fe - b)};
        n++;
        if (s >= e) break;
        s++;
    }
    return n;
}

static int blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (!is_space(*s)) return 0;
    return 1;
}

static int tok_is(tok t, const char *lit) { return (size_t)t.n == strlen(lit) && memcmp(t.s, lit, (size_t)t.n) == 0; }

/* Short printable rendering of a token for messages. */
static const char *show(tok t, char *buf, size_t cap)
{
    size_t k = 0;
    for (int i = 0; i < t.n && k + 4 < cap; i++) {
        unsigned char ch = (unsigned char)t.s[i];
        if (i == 40) {
            memcpy(buf + k, "...", 3);
            k += 3;
            break;
        }
        buf[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    buf[k] = 0;
    return buf;
}

/* ---- annotation tables -------------------------------------------------------------- */
typedef struct table {
    zs_annot *a;
    int cap;
    int *line;       /* source line of each row, for duplicate messages */
} table;

static void table_push(table *t, tok id, const int8_t *attr, int part, int line)
{
    zs_annot *a = t->a;
    if (a->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        a->id = zs_xrealloc(a->id, sizeof *a->id * (size_t)t->cap);
        if (attr) a->attr = zs_xrealloc(a->attr, ZS_NATTR * (size_t)t->cap);
        else a->part = zs_xrealloc(a->part, (size_t)t->cap);
        t->line = zs_xrealloc(t->line, sizeof(int) * (size_t)t->cap);
    }
    memset(a->id[a->n], 0, ZS_ID_BYTES);
    memcpy(a->id[a->n], id.s, (size_t)id.n);
    if (attr) memcpy(a->attr + (size_t)a->n * ZS_NATTR, attr, ZS_NATTR);
    else a->part[a->n] = (int8_t)part;
    t->line[a->n] = line;
    a->n++;
}

static zs_status check_id(const char *name, int line, tok id)
{
    char b[64];
    if (id.n >= ZS_ID_BYTES)
        return zs_errorf(ZS_ERR_FORMAT, "%s line %d: image id '%s' is longer than %d characters", name, line,
                         show(id, b, sizeof b), ZS_ID_BYTES - 1);
    for (int i = 0; i < id.n; i++) {
        unsigned char ch = (unsigned char)id.s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '/')
            return zs_errorf(ZS_ERR_FORMAT, "%s line %d: image id '%s' contains a '%s' character", name, line,
                             show(id, b, sizeof b), ch == '/' ? "/" : "control");
    }
    if (id.n == 0) return zs_errorf(ZS_ERR_FORMAT, "%s line %d: empty image id", name, line);
    return ZS_OK;
}

typedef struct { char id[ZS_ID_BYTES]; int row; } keyed;
static int keyed_cmp(const void *a, const void *b) { return strcmp(((const keyed *)a)->id, ((const keyed *)b)->id); }

/* Reject a file listing an image twice. */
static zs_status check_duplicates(const char *name, const table *t)
{
    const zs_annot *a = t->a;
    int sorted = 1;
    for (int i = 1; i < a->n && sorted; i++) sorted = strcmp(a->id[i - 1], a->id[i]) < 0;
    if (sorted) return ZS_OK;
    keyed *k = zs_xmalloc(sizeof *k * (size_t)a->n);
    for (int i = 0; i < a->n; i++) {
        memcpy(k[i].id, a->id[i], ZS_ID_BYTES);
        k[i].row = i;
    }
    qsort(k, (size_t)a->n, sizeof *k, keyed_cmp);
    zs_status st = ZS_OK;
    for (int i = 1; i < a->n; i++)
        if (strcmp(k[i - 1].id, k[i].id) == 0) {
            int l1 = t->line[k[i - 1].row], l2 = t->line[k[i].row];
            st = zs_errorf(ZS_ERR_FORMAT, "%s line %d: %s is listed twice (also on line %d)", name,
                           l1 > l2 ? l1 : l2, k[i].id, l1 > l2 ? l2 : l1);
            break;
        }
    free(k);
    return st;
}

static void table_fail(table *t)
{
    zs_annot_free(t->a);
    free(t->line);
    t->line = NULL;
}

void zs_annot_free(zs_annot *a)
{
    if (!a) return;
    free(a->id);
    free(a->attr);
    free(a->part);
    memset(a, 0, sizeof *a);
}

/* Skip a UTF-8 byte order mark (spreadsheets add one to CSV files). */
static void skip_bom(cursor *c)
{
    if (c->end - c->p >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

/* The first non-blank line; 0 if there is none. */
static int first_line(cursor *c, const char **s, const char **e)
{
    while (next_line(c, s, e))
        if (!blank(*s, *e)) return 1;
    return 0;
}

zs_status zs_attr_parse(zs_annot *out, const char *name, const char *text, size_t len)
{
    ZS_ASSERT(out && name && (text || len == 0));
    memset(out, 0, sizeof *out);
    table t = {out, 0, NULL};
    cursor c = {text, text + len, 0};
    skip_bom(&c);
    const char *s, *e;
    tok f[MAX_FIELDS];
    char b1[64];
    zs_status st = ZS_OK;
    if (!first_line(&c, &s, &e)) return zs_errorf(ZS_ERR_FORMAT, "%s: empty file, expected CelebA attributes", name);
    int nf = split_fields(s, e, 1, f);
    int csv = nf > 1 && tok_is(f[0], "image_id");
    long declared = -1;
    if (!csv) {
        /* list_attr_celeba.txt: the count line, then the names line. */
        nf = split_fields(s, e, 0, f);
        char *end;
        char num[32];
        if (nf == 1 && f[0].n < 20) {
            memcpy(num, f[0].s, (size_t)f[0].n);
            num[f[0].n] = 0;
            declared = strtol(num, &end, 10);
            if (*end || declared < 0) declared = -1;
        }
        if (declared < 0)
            return zs_errorf(ZS_ERR_FORMAT,
                             "%s line %d: expected the number of images (list_attr_celeba.txt) or a CSV header "
                             "starting with image_id, found '%s'",
                             name, c.line, show(nf ? f[0] : (tok){s, (int)(e - s)}, b1, sizeof b1));
        if (!first_line(&c, &s, &e))
            return zs_errorf(ZS_ERR_FORMAT, "%s line %d: missing the line of attribute names", name, c.line + 1);
        nf = split_fields(s, e, 0, f);
    }
    /* Column map: file column -> official attribute index. */
    int off = csv ? 1 : 0, map[ZS_NATTR];
    if (nf - off != ZS_NATTR)
        return zs_errorf(ZS_ERR_FORMAT, "%s line %d: %d attribute names, expected %d", name, c.line, nf - off,
                         ZS_NATTR);
    int seen[ZS_NATTR] = {0};
    for (int k = 0; k < ZS_NATTR; k++) {
        tok n = f[off + k];
        int idx = -1;
        for (int a = 0; a < ZS_NATTR && idx < 0; a++)
            if (tok_is(n, zs_attr_names[a])) idx = a;
        if (idx < 0)
            return zs_errorf(ZS_ERR_FORMAT, "%s line %d: unknown attribute name '%s'", name, c.line,
                             show(n, b1, sizeof b1));
        if (seen[idx])
            return zs_errorf(ZS_ERR_FORMAT, "%s line %d: attribute '%s' appears twice", name, c.line,
                             zs_attr_names[idx]);
        seen[idx] = 1;
        map[k] = idx;
    }
    if (declared > 0) {   /* capacity hint, bounded by what the text can hold */
        long fit = (long)(len / (2 * ZS_NATTR + 2)) + 1;
        t.cap = (int)(declared < fit ? declared : fit);
        out->id = zs_xmalloc(sizeof *out->id * (size_t)t.cap);
        out->attr = zs_xmalloc(ZS_NATTR * (size_t)t.cap);
        t.line = zs_xmalloc(sizeof(int) * (size_t)t.cap);
    }
    while (next_line(&c, &s, &e)) {
        if (blank(s, e)) continue;
        nf = split_fields(s, e, csv, f);
        if (nf - 1 != ZS_NATTR) {
            st = zs_errorf(ZS_ERR_FORMAT, "%s line %d: %d attribute values, expected %d", name, c.line,
                           nf > 0 ? nf - 1 : 0, ZS_NATTR);
            break;
        }
        if ((st = check_id(name, c.line, f[0])) != ZS_OK) break;
        int8_t row[ZS_NATTR];
        for (int k = 0; k < ZS_NATTR && st == ZS_OK; k++) {
            tok v = f[1 + k];
            if (tok_is(v, "1") || tok_is(v, "+1")) row[map[k]] = 1;
            else if (tok_is(v, "-1")) row[map[k]] = -1;
            else
                st = zs_errorf(ZS_ERR_FORMAT, "%s line %d: value '%s' for %s (column %d) is not -1 or 1", name,
                               c.line, show(v, b1, sizeof b1), zs_attr_names[map[k]], k + 2);
        }
        if (st != ZS_OK) break;
        table_push(&t, f[0], row, 0, c.line);
    }
    if (st == ZS_OK && out->n == 0) st = zs_errorf(ZS_ERR_FORMAT, "%s: no attribute rows", name);
    /* A count that disagrees with the rows: most likely a truncated copy. */
    if (st == ZS_OK && declared >= 0 && declared != out->n)
        st = zs_errorf(ZS_ERR_FORMAT, "%s line 1: says %ld images but the file has %d rows (truncated or edited?)",
                       name, declared, out->n);
    if (st == ZS_OK) st = check_duplicates(name, &t);
    if (st != ZS_OK) {
        table_fail(&t);
        return st;
    }
    free(t.line);
    return ZS_OK;
}

zs_status zs_partition_parse(zs_annot *out, const char *name, const char *text, size_t len)
{
    ZS_ASSERT(out && name && (text || len == 0));
    memset(out, 0, sizeof *out);
    table t = {out, 0, NULL};
    cursor c = {text, text + len, 0};
    skip_bom(&c);
    const char *s, *e;
    tok f[MAX_FIELDS];
    char b1[64];
    zs_status st = ZS_OK;
    int csv = -1;   /* decided by the first line */
    while (next_line(&c, &s, &e)) {
        if (blank(s, e)) continue;
        if (csv < 0) {
            int n = split_fields(s, e, 1, f);
            csv = n > 1 && tok_is(f[0], "image_id");
            if (csv) {
                if (n != 2 || !tok_is(f[1], "partition"))
                    return zs_errorf(ZS_ERR_FORMAT, "%s line %d: expected the header 'image_id,partition'", name,
                                     c.line);
                continue;
            }
        }
        int nf = split_fields(s, e, csv, f);
        if (nf != 2) {
            st = zs_errorf(ZS_ERR_FORMAT, "%s line %d: %d fields, expected 2 (image id and partition)", name,
                           c.line, nf);
            break;
        }
        if ((st = check_id(name, c.line, f[0])) != ZS_OK) break;
        int p = f[1].n == 1 && f[1].s[0] >= '0' && f[1].s[0] <= '2' ? f[1].s[0] - '0' : -1;
        if (p < 0) {
            st = zs_errorf(ZS_ERR_FORMAT, "%s line %d: partition '%s' is not 0 (train), 1 (val) or 2 (test)", name,
                           c.line, show(f[1], b1, sizeof b1));
            break;
        }
        table_push(&t, f[0], NULL, p, c.line);
    }
    if (st == ZS_OK && out->n == 0) st = zs_errorf(ZS_ERR_FORMAT, "%s: no partition rows", name);
    if (st == ZS_OK) st = check_duplicates(name, &t);
    if (st != ZS_OK) {
        table_fail(&t);
        return st;
    }
    free(t.line);
    return ZS_OK;
}

/* ---- the join -------------------------------------------------------------------- */
static char *join2(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = zs_xmalloc(n);
    snprintf(p, n, "%s%s%s", a, a[0] && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return p;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* First existing annotation file among DIR, DIR/Anno, DIR/Eval with .txt
 * preferred over .csv. */
static char *find_annot(const char *dir, const char *stem)
{
    static const char *subs[] = {"", "Anno/", "Eval/"};
    for (int s = 0; s < 3; s++)
        for (int x = 0; x < 2; x++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%s%s.%s", subs[s], stem, x ? "csv" : "txt");
            char *p = join2(dir, rel);
            if (is_file(p)) return p;
            free(p);
        }
    return NULL;
}

static int image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0);
}

static int id_cmp(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* Image file names of a directory (sorted); *longer counts names that do
 * not fit an id (they cannot match a row). */
static zs_status list_images(const char *dir, char (**names)[ZS_ID_BYTES], int *n, int *longer)
{
    DIR *d = opendir(dir);
    if (!d) return zs_errorf(ZS_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    int cap = 0;
    *names = NULL;
    *n = *longer = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !image_ext(de->d_name)) continue;
        if (strlen(de->d_name) >= ZS_ID_BYTES) {
            ++*longer;
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 4096;
            *names = zs_xrealloc(*names, sizeof **names * (size_t)cap);
        }
        memset((*names)[*n], 0, ZS_ID_BYTES);
        strcpy((*names)[*n], de->d_name);
        ++*n;
    }
    closedir(d);
    int sorted = 1;
    for (int i = 1; i < *n && sorted; i++) sorted = strcmp((*names)[i - 1], (*names)[i]) < 0;
    if (!sorted) qsort(*names, (size_t)*n, ZS_ID_BYTES, id_cmp);
    return ZS_OK;
}

/* Row order sorted by id (rows are usually sorted already). */
static int *sorted_rows(const zs_annot *a)
{
    int *ord = zs_xmalloc(sizeof(int) * (size_t)(a->n ? a->n : 1));
    for (int i = 0; i < a->n; i++) ord[i] = i;
    int sorted = 1;
    for (int i = 1; i < a->n && sorted; i++) sorted = strcmp(a->id[i - 1], a->id[i]) < 0;
    if (!sorted) {
        keyed *k = zs_xmalloc(sizeof *k * (size_t)a->n);
        for (int i = 0; i < a->n; i++) {
            memcpy(k[i].id, a->id[i], ZS_ID_BYTES);
            k[i].row = i;
        }
        qsort(k, (size_t)a->n, sizeof *k, keyed_cmp);
        for (int i = 0; i < a->n; i++) ord[i] = k[i].row;
        free(k);
    }
    return ord;
}

static zs_status read_annot(zs_annot *a, const char *path, int attrs)
{
    uint8_t *data;
    size_t len;
    zs_status st = zs_read_file(path, &data, &len, (size_t)1 << 30);
    if (st != ZS_OK) return st;
    st = attrs ? zs_attr_parse(a, path, (const char *)data, len) : zs_partition_parse(a, path, (const char *)data, len);
    free(data);
    return st;
}

void zs_index_free(zs_index *ix)
{
    if (!ix) return;
    free(ix->dir);
    free(ix->img_dir);
    free(ix->attr_path);
    free(ix->part_path);
    free(ix->id);
    free(ix->attr);
    free(ix->part);
    memset(ix, 0, sizeof *ix);
}

zs_status zs_index_open(zs_index *ix, const char *dir)
{
    ZS_ASSERT(ix && dir);
    memset(ix, 0, sizeof *ix);
    struct stat sb;
    if (stat(dir, &sb) != 0) return zs_errorf(ZS_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return zs_errorf(ZS_ERR_IO, "%s: not a directory", dir);
    ix->dir = zs_xstrdup(dir);
    zs_status st = ZS_OK;
    zs_annot attrs = {0}, parts = {0};
    char (*names)[ZS_ID_BYTES] = NULL;
    int *ao = NULL, *po = NULL;

    ix->attr_path = find_annot(dir, "list_attr_celeba");
    ix->part_path = find_annot(dir, "list_eval_partition");
    static const char *img_dirs[] = {"img_align_celeba/img_align_celeba", "img_align_celeba",
                                     "Img/img_align_celeba/img_align_celeba", "Img/img_align_celeba"};
    for (int i = 0; i < 4 && !ix->img_dir; i++) {
        char *p = join2(dir, img_dirs[i]);
        if (is_dir(p)) ix->img_dir = p;
        else free(p);
    }
    if (!ix->attr_path) {
        st = zs_errorf(ZS_ERR_IO, "%s: no list_attr_celeba.txt or list_attr_celeba.csv (looked in it and in its "
                       "Anno/ and Eval/)", dir);
        goto done;
    }
    if (!ix->part_path) {
        st = zs_errorf(ZS_ERR_IO, "%s: no list_eval_partition.txt or list_eval_partition.csv (looked in it and in "
                       "its Anno/ and Eval/)", dir);
        goto done;
    }
    if (!ix->img_dir) {
        st = zs_errorf(ZS_ERR_IO, "%s: no img_align_celeba/ directory of images (looked for img_align_celeba/, "
                       "img_align_celeba/img_align_celeba/ and Img/img_align_celeba/)", dir);
        goto done;
    }
    if ((st = read_annot(&attrs, ix->attr_path, 1)) != ZS_OK) goto done;
    if ((st = read_annot(&parts, ix->part_path, 0)) != ZS_OK) goto done;
    int nimg = 0, longer = 0;
    if ((st = list_images(ix->img_dir, &names, &nimg, &longer)) != ZS_OK) goto done;
    ix->attr_rows = attrs.n;
    ix->part_rows = parts.n;
    ix->images = nimg + longer;
    if (ix->images == 0) {
        st = zs_errorf(ZS_ERR_IO, "%s: no .jpg, .jpeg or .png images", ix->img_dir);
        goto done;
    }

    /* Three-way merge of sorted lists: attribute rows, images, partition rows. */
    ao = sorted_rows(&attrs);
    po = sorted_rows(&parts);
    ix->id = zs_xmalloc(sizeof *ix->id * (size_t)(attrs.n < nimg ? attrs.n : nimg));
    ix->attr = zs_xmalloc(ZS_NATTR * (size_t)(attrs.n < nimg ? attrs.n : nimg));
    ix->part = zs_xmalloc((size_t)(attrs.n < nimg ? attrs.n : nimg));
    int i = 0, j = 0, k = 0, matched = 0;
    while (i < attrs.n || j < nimg) {
        int c = i >= attrs.n ? 1 : j >= nimg ? -1 : strcmp(attrs.id[ao[i]], names[j]);
        if (c < 0) {
            ix->rows_without_image++;
            i++;
            continue;
        }
        if (c > 0) {
            ix->images_without_row++;
            j++;
            continue;
        }
        const char *id = names[j];
        matched++;
        while (k < parts.n && strcmp(parts.id[po[k]], id) < 0) k++;
        if (k < parts.n && strcmp(parts.id[po[k]], id) == 0) {
            memcpy(ix->id[ix->n], id, ZS_ID_BYTES);
            memcpy(ix->attr + (size_t)ix->n * ZS_NATTR, attrs.attr + (size_t)ao[i] * ZS_NATTR, ZS_NATTR);
            ix->part[ix->n] = parts.part[po[k]];
            ix->split_count[parts.part[po[k]]]++;
            ix->n++;
        } else {
            ix->rows_without_partition++;
        }
        i++;
        j++;
    }
    ix->images_without_row += longer;
    if (ix->n == 0)
        st = zs_errorf(ZS_ERR_FORMAT, "%s: none of its %d images has both an attribute row in %s and a partition row "
                       "in %s", ix->img_dir, ix->images, ix->attr_path, ix->part_path);
    (void)matched;
done:
    free(ao);
    free(po);
    free(names);
    zs_annot_free(&attrs);
    zs_annot_free(&parts);
    if (st != ZS_OK) zs_index_free(ix);
    return st;
}
