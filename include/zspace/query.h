/*
 * zspace/query.h - attribute names as people type them: the explorer's boxes
 * and the CLI's --where (zspace mean).
 *
 *     zs_query q;
 *     char msg[256];
 *     zs_query_parse("smiling=no Eyeglasses=yes", &q, msg, sizeof msg);   // -1 and msg for bad terms
 *     if (zs_query_match(&q, zs_cache_attrs(cache, i))) show(i);
 *
 * A term is NAME, NAME=yes|no (also y/n, 1/0, true/false, +/-) or !NAME
 * (= no); terms are separated by spaces or commas. NAME is the attribute's
 * name, case-insensitive with '_' and ' ' alike, or any part of it that
 * names one attribute only ("glasses", "smil"). Bad terms are left out
 * of the query and named in msg; the others still count.
 */
#ifndef ZSPACE_QUERY_H
#define ZSPACE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "zspace/data.h"

enum { ZS_QUERY_UNKNOWN = -1, ZS_QUERY_AMBIGUOUS = -2 };

typedef struct zs_query {
    int n;
    int attr[ZS_NATTR];
    int8_t want[ZS_NATTR];     /* +1: has it, -1: has not */
} zs_query;

/* The attribute s[0..n) names, or ZS_QUERY_UNKNOWN / ZS_QUERY_AMBIGUOUS. */
int zs_query_attr(const char *s, size_t n);
/* 0, or -1 with the bad terms explained in msg (the good ones are in q). */
int zs_query_parse(const char *text, zs_query *q, char *msg, size_t nmsg);
/* 1 when the labels (ZS_NATTR of +1 / -1) agree with every term. */
int zs_query_match(const zs_query *q, const int8_t *labels);

#endif
