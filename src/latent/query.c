/* Attribute names as people type them: the gallery's search box
 * ("Smiling=no Eyeglasses=yes") and the "orthogonal to" box ("Male,Young").
 * No SDL, no GL: tests/test_gui_ui.c runs it alone. */
#include "zspace/query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "zspace/latent.h"

/* Case-insensitive, '_' and ' ' alike: does name[i..] start with s[0..n)? */
static int same_at(const char *name, size_t i, const char *s, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        int a = tolower((unsigned char)name[i + j]), b = tolower((unsigned char)s[j]);
        if (a == ' ') a = '_';
        if (b == ' ') b = '_';
        if (a != b) return 0;
    }
    return 1;
}

int zs_query_attr(const char *s, size_t n)
{
    int found = ZS_QUERY_UNKNOWN, count = 0;
    for (int k = 0; k < ZS_NATTR; k++) {
        size_t nn = strlen(zs_attr_names[k]);
        if (nn == n && same_at(zs_attr_names[k], 0, s, n)) return k;   /* the whole name wins */
        for (size_t i = 0; n > 0 && i + n <= nn; i++)
            if (same_at(zs_attr_names[k], i, s, n)) {
                found = k, count++;
                break;
            }
    }
    return count > 1 ? ZS_QUERY_AMBIGUOUS : found;
}

/* "yes" -> 1, "no" -> -1, else 0 */
static int parse_value(const char *s, size_t n)
{
    static const char *const yes[] = {"yes", "y", "1", "true", "+"}, *const no[] = {"no", "n", "0", "false", "-"};
    for (int i = 0; i < 5; i++) {
        if (strlen(yes[i]) == n && same_at(yes[i], 0, s, n)) return 1;
        if (strlen(no[i]) == n && same_at(no[i], 0, s, n)) return -1;
    }
    return 0;
}

int zs_query_parse(const char *text, zs_query *q, char *msg, size_t nmsg)
{
    memset(q, 0, sizeof *q);
    size_t used = 0;
    if (nmsg) msg[0] = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (!*p) break;
        const char *t = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t') p++;
        size_t n = (size_t)(p - t);
        int want = 1;
        const char *eq = memchr(t, '=', n), *name = t, *val = eq ? eq + 1 : p;
        size_t nname = (size_t)((eq ? eq : p) - t), nval = (size_t)(p - val);
        if (nname > 0 && (name[0] == '!' || name[0] == '-')) want = -1, name++, nname--;
        if (eq) want *= parse_value(val, nval);
        if (nname > 40) nname = 40;
        if (nval > 40) nval = 40;
        int k = zs_query_attr(name, nname);
        char why[160] = "";
        if (k == ZS_QUERY_UNKNOWN) {
            char part[48];
            snprintf(part, sizeof part, "%.*s", (int)nname, name);
            snprintf(why, sizeof why, "no attribute '%s' (did you mean %s?)", part, zs_attr_names[zs_attr_nearest(part)]);
        } else if (k == ZS_QUERY_AMBIGUOUS)
            snprintf(why, sizeof why, "'%.*s' names several attributes", (int)nname, name);
        else if (want == 0)
            snprintf(why, sizeof why, "%s=%.*s: use yes or no", zs_attr_names[k], (int)nval, val);
        if (why[0]) {
            if (nmsg && used < nmsg) used += (size_t)snprintf(msg + used, nmsg - used, "%s%s", used ? "; " : "", why);
            continue;
        }
        int dup = 0;
        for (int i = 0; i < q->n; i++)
            if (q->attr[i] == k) q->want[i] = (int8_t)want, dup = 1;   /* the last one counts */
        if (!dup && q->n < ZS_NATTR) q->attr[q->n] = k, q->want[q->n++] = (int8_t)want;
    }
    if (nmsg && used >= nmsg) msg[nmsg - 1] = 0;
    return used ? -1 : 0;
}

int zs_query_match(const zs_query *q, const int8_t *labels)
{
    for (int i = 0; i < q->n; i++)
        if ((labels[q->attr[i]] > 0 ? 1 : -1) != q->want[i]) return 0;
    return 1;
}
