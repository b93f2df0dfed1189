/* Dense (fully connected) layer, PyTorch Linear layout (see zspace/nn.h). */
#include "zspace/nn.h"

#include <string.h>

void zs_dense_forward_ref(int n, int in, int out, const float *x, const float *w, const float *b, float *y)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            float sum = b ? b[o] : 0.0f;
            for (int k = 0; k < in; k++) sum += x[(size_t)i * in + k] * w[(size_t)o * in + k];
            y[(size_t)i * out + o] = sum;
        }
}

void zs_dense_backward_ref(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx,
                           float *dw, float *db)
{
    if (dx) memset(dx, 0, sizeof(float) * (size_t)n * in);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            float g = dy[(size_t)i * out + o];
            if (db) db[o] += g;
            for (int k = 0; k < in; k++) {
                dw[(size_t)o * in + k] += g * x[(size_t)i * in + k];
                if (dx) dx[(size_t)i * in + k] += g * w[(size_t)o * in + k];
            }
        }
}

void zs_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b, float *y)
{
    /* y (N, OUT) = x (N, IN) W^T; one image is a matrix-vector product, which
     * reads W once instead of packing it */
    if (n == 1) zs_sgemv(ZS_N, out, in, 1.0f, w, in, x, 1, 0.0f, y, 1);
    else zs_sgemm(ZS_N, ZS_T, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    if (b)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) y[(size_t)i * out + o] += b[o];
}

void zs_dense_backward(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw,
                       float *db)
{
    /* dW (OUT, IN) += dy^T (OUT, N) x (N, IN); none for a frozen layer */
    if (dw) zs_sgemm(ZS_T, ZS_N, out, in, n, 1.0f, dy, out, x, in, 1.0f, dw, in);
    if (db)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) db[o] += dy[(size_t)i * out + o];
    /* dx (N, IN) = dy (N, OUT) x W (OUT, IN) */
    if (dx) zs_sgemm(ZS_N, ZS_N, n, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}
