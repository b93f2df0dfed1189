/* Table of named tensors over one contiguous buffer (see zspace/nn.h). */
#include "zspace/nn.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void zs_table_init(zs_param_table *pt) { memset(pt, 0, sizeof *pt); }
void zs_table_free(zs_param_table *pt)
{
    free(pt->t);
    memset(pt, 0, sizeof *pt);
}

int zs_table_add(zs_param_table *pt, const char *name, int trainable, int fan_in, float init_const, int ndim, ...)
{
    ZS_ASSERT(ndim >= 1 && ndim <= 4 && strlen(name) < ZS_TENSOR_NAME);
    ZS_ASSERT(!trainable || pt->n == 0 || pt->t[pt->n - 1].trainable);   /* parameters first */
    if (pt->n == pt->cap) {
        pt->cap = pt->cap ? 2 * pt->cap : 32;
        pt->t = zs_xrealloc(pt->t, sizeof *pt->t * (size_t)pt->cap);
    }
    zs_tensor_info *t = &pt->t[pt->n];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    t->numel = 1;
    va_list ap;
    va_start(ap, ndim);
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = va_arg(ap, int);
        t->numel *= (size_t)t->shape[d];
    }
    va_end(ap);
    /* keep every tensor 16-float aligned so each starts on a cache line */
    t->offset = pt->total;
    pt->total += (t->numel + 15) & ~(size_t)15;
    t->trainable = trainable;
    t->fan_in = fan_in;
    t->init_const = init_const;
    if (trainable) pt->ntrain = pt->total;
    return pt->n++;
}

const zs_tensor_info *zs_table_find(const zs_param_table *pt, const char *name)
{
    for (int i = 0; i < pt->n; i++)
        if (strcmp(pt->t[i].name, name) == 0) return &pt->t[i];
    return NULL;
}

void zs_table_init_params(const zs_param_table *pt, float *params, uint64_t seed)
{
    memset(params, 0, sizeof(float) * pt->total);
    for (int i = 0; i < pt->n; i++) {
        const zs_tensor_info *t = &pt->t[i];
        float *p = params + t->offset;
        if (t->fan_in > 0) {
            uint64_t key = zs_hash64(seed) ^ zs_fnv1a64(t->name);
            double bound = 1.0 / sqrt((double)t->fan_in);
            for (size_t k = 0; k < t->numel; k++)
                p[k] = (float)(bound * (2.0 * (double)zs_uniform01(key, k) - 1.0));
        } else {
            for (size_t k = 0; k < t->numel; k++) p[k] = t->init_const;
        }
    }
}
